"""The Idempotency-Key middleware (spec §8): one place for every write endpoint, present and future.

A non-GET request carrying `Idempotency-Key` runs with the key attached to its request state
(`_Pending` under `request.state`). Its route's
access check (`api/auth.requires`, the subscriptions' `subscriber`) authenticates the caller,
checks the organization in the path, the rate limit and the route's scope, and only then calls
`admit`: a key used within 24 h answers from the stored response (same method, path and body →
the stored status and body with `Idempotent-Replayed: true`; anything else → 409
IDEMPOTENCY_KEY_REUSED), so a replay is refused to whoever the route itself would refuse.
Otherwise the route takes the admitted claim (`claim_of(request)`) and passes it to its use case,
whose write transaction claims the key with its effect (service/idempotency.py); the answer is
stored here once it committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockledger.api.responses import error_response
from stockledger.domain.errors import ServiceError, Violation, validation_error
from stockledger.plumbing import AppState, app_state
from stockledger.service import idempotency, organizations

log = logging.getLogger("stockledger.idempotency")
HEADER = b"idempotency-key"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class _Pending:
    """The request's key and what its fingerprint is made of, until its route admits it."""

    method: str
    path: str
    body: bytes
    claim: idempotency.Claim


_STATE_KEY = "idempotency"  # where the middleware puts the request's `_Pending` in its ASGI state


def _pending(request: Request) -> _Pending | None:
    pending: _Pending | None = request.scope.get("state", {}).get(_STATE_KEY)
    return pending


def claim_of(request: Request) -> idempotency.Claim | None:
    """The request's Idempotency-Key claim once its route admitted it, for the route to pass to its use
    case (`claim=`); None without a key."""
    pending = _pending(request)
    return pending.claim if pending is not None and pending.claim.org is not None else None


class Replay(Exception):
    """The key was used before: this stored answer (or conflict) is the request's answer."""

    def __init__(self, response: Response) -> None:
        super().__init__("idempotent replay")
        self.response = response


async def replay_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return exc.response


async def admit(request: Request, org: str) -> None:
    """Called by a route's access check once the caller may use the route on `org`: the request's
    key (if any) becomes the organization's. Raises `Replay` when the key was used before."""
    pending = _pending(request)
    if pending is None or pending.claim.org is not None:
        return
    key = pending.claim.key
    if not 1 <= len(key) <= idempotency.MAX_KEY_LEN:
        raise validation_error(
            [Violation("Idempotency-Key", f"must be 1 to {idempotency.MAX_KEY_LEN} characters")]
        )
    fingerprint = idempotency.fingerprint(pending.method, _normalised_path(pending.path, org), pending.body)
    state = app_state(request)
    await organizations.ensure(state.db, org)  # before the claim: creating the org is not the effect
    stored = await idempotency.lookup(state.db, org, key, state.idempotency_clock())
    if stored is not None:
        if stored.status is None and stored.fingerprint == fingerprint:
            # Committed by a concurrent request whose answer is being stored right now (or was
            # lost): wait for it like a duplicate that met the key in its own transaction.
            raise Replay(await _duplicate_answer(state, org, key, fingerprint))
        raise Replay(_stored_answer(stored, fingerprint))
    pending.claim.admit(org, fingerprint)


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_purge_ms = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER)
        if scope["type"] != "http" or scope["method"] in READ_METHODS or key is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException as exc:
            error = ServiceError(str(exc.detail), exc.status_code, "PAYLOAD_TOO_LARGE")
            await error_response(error)(scope, receive, send)
            return
        state: AppState = scope["app"].state.stockledger
        claim = idempotency.Claim(key, clock=state.idempotency_clock)
        captured = _Captured()
        scope.setdefault("state", {})[_STATE_KEY] = _Pending(scope["method"], scope["path"], body, claim)
        await self.app(scope, _replaying(body, receive), captured.send)
        org = claim.org
        if org is None:  # not admitted (refused, replayed, or a route without keys): as it answered
            await captured.replay(send)
            return
        if claim.taken:
            response = await _duplicate_answer(state, org, key, claim.fingerprint)
            await response(scope, receive, send)
        else:
            if claim.claimed:
                await idempotency.store_response(
                    state.db, org, key, captured.status, captured.content_type, captured.body
                )
            await captured.replay(send)
        await self._purge_now_and_then(state)

    async def _purge_now_and_then(self, state: AppState) -> None:
        now = state.idempotency_clock()
        if now - self.last_purge_ms >= idempotency.PURGE_INTERVAL_MS:
            self.last_purge_ms = now
            purged = await idempotency.purge_expired(state.db, now)
            if purged:
                log.info("purged expired idempotency keys", extra={"count": purged})


class _Captured:
    """The downstream response, held until the key's answer is stored."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status = 500
        self.content_type: str | None = None
        self.body = b""

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


def _stored_answer(stored: idempotency.StoredKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return error_response(
            ServiceError(
                "Idempotency-Key was already used with another request (method, path or body)",
                409,
                "IDEMPOTENCY_KEY_REUSED",
            )
        )
    if stored.status is None:
        return error_response(
            ServiceError(
                "A request with this Idempotency-Key was applied but its answer is not available "
                "(still in progress, or lost); read the current state instead of retrying",
                409,
                "IDEMPOTENCY_KEY_REUSED",
            )
        )
    response = Response(stored.body or b"", stored.status, {"idempotent-replayed": "true"})
    if stored.content_type is not None:
        response.headers["content-type"] = stored.content_type
    return response


async def _duplicate_answer(state: AppState, org: str, key: str, fingerprint: str) -> Response:
    """A concurrent request committed this key first: its answer once it is stored."""
    deadline = time.monotonic() + idempotency.REPLAY_WAIT_S
    while True:
        stored = await idempotency.lookup(state.db, org, key, state.idempotency_clock())
        done = stored is not None and (stored.status is not None or stored.fingerprint != fingerprint)
        if stored is not None and (done or time.monotonic() >= deadline):
            return _stored_answer(stored, fingerprint)
        if stored is None and time.monotonic() >= deadline:  # pragma: no cover - purged meanwhile
            return error_response(
                ServiceError("Idempotency-Key conflict, retry the request", 409, "IDEMPOTENCY_KEY_REUSED")
            )
        await asyncio.sleep(idempotency.REPLAY_POLL_S)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def wrapped() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


def _normalised_path(path: str, org: str) -> str:
    """`self` and the organization's own UUID name the same resource."""
    prefix = "/organizations/self"
    if path == prefix or path.startswith(prefix + "/"):
        return f"/organizations/{org}" + path[len(prefix) :]
    return path.lower() if path.startswith("/organizations/") else path


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope.get("headers", []):
        if header == name:
            text: str = value.decode("latin-1")
            return text
    return None
