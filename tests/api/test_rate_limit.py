"""Rate limiting per organization over HTTP: 429 RATE_LIMITED with Retry-After, others unaffected."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from stockledger.app import create_app
from stockledger.store.db import Database
from tests.conftest import Api, make_settings


async def test_rate_limited_organization_gets_429_and_others_still_pass(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_limit_per_s=0.001, rate_limit_burst=3)
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        busy, quiet = Api(client, str(uuid.uuid4())), Api(client, str(uuid.uuid4()))
        statuses = [(await busy.get("/organizations/self/locations")).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = await busy.get("/organizations/self/locations")
        assert refused.status_code == 429
        assert refused.json()["errorType"] == "RATE_LIMITED"
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await quiet.get("/organizations/self/locations")).status_code == 200


async def test_rate_limit_is_off_by_default(api: Api) -> None:
    for _ in range(50):
        assert (await api.get("/inventory")).status_code == 200
