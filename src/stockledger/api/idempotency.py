"""The Idempotency-Key middleware (spec §8): one place for every write endpoint, present and future.

A non-GET request carrying `Idempotency-Key` under an authenticated organization is answered from
the stored response when its key was used within 24 h (same method, path and body → the stored
status and body with `Idempotent-Replayed: true`; anything else → 409 IDEMPOTENCY_KEY_REUSED).
Otherwise it runs with the key claimed by its first write transaction (service/idempotency.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockledger.api.responses import error_response
from stockledger.api.state import AppState
from stockledger.domain.errors import ServiceError, Violation, validation_error
from stockledger.service import idempotency, organizations
from stockledger.store.db import Database, write_claim
from stockledger.store.idempotency import StoredKey
from stockledger.tokens import TokenError

log = logging.getLogger("stockledger.idempotency")
HEADER = b"idempotency-key"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_purge_ms = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER)
        if scope["type"] != "http" or scope["method"] in READ_METHODS or key is None:
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.stockledger
        org = await _organization(state, scope)
        if org is None:  # unauthenticated: the route answers 401 (and nothing can be written)
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= idempotency.MAX_KEY_LEN:
            error = validation_error(
                [Violation("Idempotency-Key", f"must be 1 to {idempotency.MAX_KEY_LEN} characters")]
            )
            await error_response(error)(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException as exc:
            error = ServiceError(str(exc.detail), exc.status_code, "PAYLOAD_TOO_LARGE")
            await error_response(error)(scope, receive, send)
            return
        path = _normalised_path(scope["path"], org)
        fingerprint = idempotency.fingerprint(scope["method"], path, body)
        db = state.db
        await organizations.ensure(db, org)  # before the claim: creating the org is not the effect
        await self._purge_now_and_then(state)
        stored = await idempotency.lookup(db, org, key)
        if stored is not None:
            if stored.status is None and stored.fingerprint == fingerprint:
                # Committed by a concurrent request whose answer is being stored right now (or was
                # lost): wait for it like a duplicate that met the key in its own transaction.
                await _answer_duplicate(db, org, key, fingerprint, scope, receive, send)
            else:
                await _answer_stored(stored, fingerprint, scope, receive, send)
            return
        claim = idempotency.Claim(org, key, fingerprint)
        captured = _Captured()
        token = write_claim.set(claim)
        try:
            await self.app(scope, _replaying(body, receive), captured.send)
        finally:
            write_claim.reset(token)
        if claim.taken:
            await _answer_duplicate(db, org, key, fingerprint, scope, receive, send)
            return
        if claim.claimed:
            await idempotency.store_response(
                db, org, key, captured.status, captured.content_type, captured.body
            )
        await captured.replay(send)

    async def _purge_now_and_then(self, state: AppState) -> None:
        now = idempotency.clock()
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


async def _answer_stored(
    stored: StoredKey, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if stored.fingerprint != fingerprint:
        error = ServiceError(
            "Idempotency-Key was already used with another request (method, path or body)",
            409,
            "IDEMPOTENCY_KEY_REUSED",
        )
        await error_response(error)(scope, receive, send)
        return
    if stored.status is None:
        error = ServiceError(
            "A request with this Idempotency-Key was applied but its answer is not available "
            "(still in progress, or lost); read the current state instead of retrying",
            409,
            "IDEMPOTENCY_KEY_REUSED",
        )
        await error_response(error)(scope, receive, send)
        return
    headers = [(b"idempotent-replayed", b"true"), (b"content-length", str(len(stored.body or b"")).encode())]
    if stored.content_type is not None:
        headers.append((b"content-type", stored.content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body or b""})


async def _answer_duplicate(
    db: Database, org: str, key: str, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """A concurrent request committed this key first: replay its answer once it is stored."""
    deadline = time.monotonic() + idempotency.REPLAY_WAIT_S
    while True:
        stored = await idempotency.lookup(db, org, key)
        done = stored is not None and (stored.status is not None or stored.fingerprint != fingerprint)
        if stored is not None and (done or time.monotonic() >= deadline):
            await _answer_stored(stored, fingerprint, scope, receive, send)
            return
        if stored is None and time.monotonic() >= deadline:  # pragma: no cover - purged meanwhile
            error = ServiceError("Idempotency-Key conflict, retry the request", 409, "IDEMPOTENCY_KEY_REUSED")
            await error_response(error)(scope, receive, send)
            return
        await asyncio.sleep(idempotency.REPLAY_POLL_S)


async def _organization(state: AppState, scope: Scope) -> str | None:
    header = _header(scope, b"authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal = await state.verifier.verify(token.strip())
    except TokenError:
        return None
    return principal.org


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
