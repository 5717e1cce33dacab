"""Running a real `stockledger serve` process for tests that need a socket, signals or crashes.

The one place tests start servers: `spawn` (any environment and flags), `start`/`running` (a server
on a given database with the test secret), `serving` (a context for shutdown tests).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """The test's environment without any STOCKLEDGER_* variable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKLEDGER_")}
    env.update(settings)
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sigterm(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the whole process group (workers too): no chance to clean up, as in a crash."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout_s: float = 30) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)


def spawn(env: dict[str, str], log_dir: Path, *args: str) -> Server:
    """Start `stockledger serve --host 127.0.0.1 --port <free> *args` and wait until /healthz answers.

    stdout and stderr go to a log file in `log_dir`; the process gets its own process group so a
    kill reaches its workers too."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"serve-{port}.log"
    command = [
        sys.executable,
        "-m",
        "stockledger",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise AssertionError(f"serve did not start:\n{server.log()}")
        time.sleep(0.1)


def start(
    database_url: str, data_dir: Path, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Server:
    """A server on `database_url` with the test secret (tokens minted by tests are accepted)."""
    settings = {
        "STOCKLEDGER_DATABASE_URL": database_url,
        "STOCKLEDGER_DATA_DIR": str(data_dir),
        "STOCKLEDGER_SECRET": TEST_SECRET,
        "STOCKLEDGER_LOG_LEVEL": "warning",
        "STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    env = clean_env(**{**settings, **(extra_env or {})})
    return spawn(env, data_dir, *(["--workers", str(workers)] if workers > 1 else []))


@contextmanager
def running(database_url: str, data_dir: Path, **kwargs: object) -> Iterator[Server]:
    server = start(database_url, data_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        try:
            server.terminate(timeout_s=15)
        except subprocess.TimeoutExpired:
            server.kill()


@contextmanager
def serving(env: dict[str, str], tmp_path: Path, *args: str) -> Iterator[Server]:
    """Run `stockledger serve` with exactly `env`; kill it at the end if a test left it running."""
    server = spawn(env, tmp_path, *args)
    try:
        yield server
    finally:
        server.kill()
