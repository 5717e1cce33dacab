"""Operations endpoints (spec §10): liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.responses import Response

from stockledger.api.responses import json_response
from stockledger.metrics import OUTBOX_DEPTH, exposition
from stockledger.plumbing import app_state
from stockledger.service import ops

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
    ready = await ops.readiness(app_state(request).db)
    if ready.status == "ready":
        return json_response({"status": ready.status, "revision": ready.revision})
    if ready.status == "migrations pending":
        return json_response({"status": ready.status, "revision": ready.revision, "head": ready.head}, 503)
    return json_response({"status": ready.status, "reason": ready.reason}, 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    try:
        OUTBOX_DEPTH.set(await ops.outbox_depth(app_state(request).db))
    except Exception:  # an unreachable database must not hide the other metrics
        log.warning("could not measure the outbox depth", exc_info=True)
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
