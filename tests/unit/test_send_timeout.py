"""The send timeout's watchdog (http_protocol.py), driven by hand: no socket, no clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY
from uvicorn.config import Config
from uvicorn.server import ServerState

from stockledger.http_protocol import HttpProtocol

SEND_TIMEOUT_S = 60.0


def resets_counted() -> float:
    return REGISTRY.get_sample_value("stockledger_send_timeouts_total") or 0.0


@dataclass
class Timer:
    delay_s: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class ManualLoop:
    """Records timers; a test fires them when it decides the time has passed."""

    timers: list[Timer] = field(default_factory=list)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(delay_s, callback)
        self.timers.append(timer)
        return timer

    def pending(self) -> list[Timer]:
        """The send-timeout watchdogs armed (uvicorn's keep-alive timer runs for 5 s, not these)."""
        return [t for t in self.timers if not t.cancelled and t.delay_s == SEND_TIMEOUT_S]

    def fire(self) -> None:
        (timer,) = self.pending()
        self.timers.remove(timer)
        timer.callback()


@dataclass
class StalledTransport:
    """A transport whose write buffer holds what the test says; no socket behind it."""

    buffered_bytes: int = 0
    aborted: bool = False

    def get_write_buffer_size(self) -> int:
        return self.buffered_bytes

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.aborted

    def close(self) -> None:
        pass


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("no request reaches the app here")


def connection(send_timeout_s: float = SEND_TIMEOUT_S) -> tuple[HttpProtocol, StalledTransport, ManualLoop]:
    loop = ManualLoop()
    protocol = HttpProtocol(
        config=Config(app=_asgi_app), server_state=ServerState(), app_state={}, _loop=loop
    )
    protocol.send_timeout_s = send_timeout_s
    transport = StalledTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport, loop


def test_a_client_that_takes_nothing_for_the_send_timeout_is_reset() -> None:
    protocol, transport, loop = connection()
    before = resets_counted()
    transport.buffered_bytes = 80_000
    protocol.pause_writing()  # the ASGI send now waits for the client
    assert len(loop.pending()) == 1
    loop.fire()
    assert transport.aborted
    assert resets_counted() == before + 1


def test_a_slow_client_that_keeps_taking_bytes_is_left_alone() -> None:
    protocol, transport, loop = connection()
    transport.buffered_bytes = 80_000
    protocol.pause_writing()
    for buffered in (70_000, 60_000, 50_000):
        transport.buffered_bytes = buffered
        loop.fire()
        assert not transport.aborted
        assert len(loop.pending()) == 1  # watched again from where it stands
    loop.fire()  # then nothing for a whole period
    assert transport.aborted


def test_a_client_that_catches_up_stops_the_watch() -> None:
    protocol, transport, loop = connection()
    transport.buffered_bytes = 80_000
    protocol.pause_writing()
    transport.buffered_bytes = 10_000
    protocol.resume_writing()
    assert loop.pending() == []
    assert not transport.aborted


def test_the_last_bytes_of_a_finished_answer_are_watched_too() -> None:
    protocol, transport, loop = connection()
    transport.buffered_bytes = 30_000  # below the high-water mark: writing never paused
    protocol.on_response_complete()
    loop.fire()
    assert transport.aborted


def test_a_finished_answer_whose_bytes_were_taken_is_not_reset() -> None:
    protocol, transport, loop = connection()
    transport.buffered_bytes = 30_000
    protocol.on_response_complete()
    transport.buffered_bytes = 0
    loop.fire()
    assert not transport.aborted and loop.pending() == []


def test_a_connection_lost_meanwhile_cancels_the_watch() -> None:
    protocol, transport, loop = connection()
    transport.buffered_bytes = 80_000
    protocol.pause_writing()
    protocol.connection_lost(None)
    assert loop.pending() == []


def test_a_send_timeout_of_zero_never_resets() -> None:
    protocol, transport, loop = connection(0.0)
    transport.buffered_bytes = 80_000
    protocol.pause_writing()
    assert [t for t in loop.timers if not t.cancelled] == []
