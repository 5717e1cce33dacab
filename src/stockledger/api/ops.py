"""Operations endpoints (spec §10): liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from stockledger.api.responses import json_response
from stockledger.metrics import OUTBOX_DEPTH
from stockledger.plumbing import app_state
from stockledger.store import deliveries
from stockledger.store.migrate import current_revision, head_revision, is_known_revision
from stockledger.store.readiness import probe_write

router = APIRouter(tags=["Operations"])
log = logging.getLogger("stockledger.ops")


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    """`ready` with the schema revision; otherwise why not (503)."""

    status: str
    revision: str | None = None
    head: str | None = None
    reason: str | None = None


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def readyz(request: Request) -> Response:
    """Ready when the database answers, its schema is at the newest migration (or a newer release's),
    and it accepts a write (a row inserted and deleted in one committed transaction)."""

    async def check(conn: AsyncConnection) -> str | None:
        await conn.execute(text("SELECT 1"))
        return await current_revision(conn)

    try:
        revision = await app_state(request).db.read(check)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return json_response({"status": "unavailable", "reason": type(exc).__name__}, 503)
    head = head_revision()
    if revision != head and (revision is None or is_known_revision(revision)):
        return json_response({"status": "migrations pending", "revision": revision, "head": head}, 503)
    # A revision this release does not know is a newer release's: during a rolling upgrade the
    # database is migrated first and the previous release keeps serving until it is replaced.
    try:
        await app_state(request).db.write(probe_write)
    except Exception as exc:  # read-only, disk full, out of space for the log: every write would fail
        reason = f"the database refuses writes ({type(exc).__name__})"
        log.warning("not ready: the write probe failed", extra={"error": str(exc)[:200]})
        return json_response({"status": "unavailable", "reason": reason}, 503)
    return json_response({"status": "ready", "revision": revision})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    try:
        OUTBOX_DEPTH.set(await app_state(request).db.read(deliveries.depth))
    except Exception:  # an unreachable database must not hide the other metrics
        log.warning("could not measure the outbox depth", exc_info=True)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
