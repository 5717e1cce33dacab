"""The one API-key check both front doors use (service.apikeys.verify_api_key): POST /token and the
back-office sign-in accept exactly the same keys."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.service import apikeys as service
from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.tokens import mint_api_key
from tests.conftest import TEST_SECRET, new_uuid


async def _recorded_key(db: Database, org: str, recorded_org: str | None = None) -> tuple[str, str]:
    key_id, key = mint_api_key(TEST_SECRET, org=org, sub=new_uuid(), scopes="READ:PRODUCT")

    async def record(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, recorded_org or org, "someone", "READ:PRODUCT")

    await db.write(record)
    return key_id, key


async def test_a_recorded_active_key_gives_its_record(db: Database) -> None:
    org = new_uuid()
    key_id, key = await _recorded_key(db, org)
    accepted = await service.verify_api_key(db, TEST_SECRET, key)
    record = accepted.record
    assert (record.key_id, record.org_uuid, record.scopes) == (key_id, org, "READ:PRODUCT")


@pytest.mark.parametrize("assertion", ["", "not-a-jwt", "other-secret"])
async def test_what_is_no_key_of_this_server_is_refused_as_such(db: Database, assertion: str) -> None:
    if assertion == "other-secret":
        assertion = mint_api_key("other-" + "z" * 40, org=new_uuid(), sub=new_uuid(), scopes="READ:PRODUCT")[
            1
        ]
    with pytest.raises(service.KeyRefused, match="not a valid API key"):
        await service.verify_api_key(db, TEST_SECRET, assertion)


async def test_an_unrecorded_or_revoked_key_is_refused(db: Database) -> None:
    unrecorded = mint_api_key(TEST_SECRET, org=new_uuid(), sub=new_uuid(), scopes="READ:PRODUCT")[1]
    with pytest.raises(service.KeyRefused, match="unknown or revoked"):
        await service.verify_api_key(db, TEST_SECRET, unrecorded)
    key_id, key = await _recorded_key(db, new_uuid())

    async def revoke(conn: AsyncConnection) -> bool:
        return await apikeys.revoke(conn, key_id)

    assert await db.write(revoke)
    with pytest.raises(service.KeyRefused, match="unknown or revoked"):
        await service.verify_api_key(db, TEST_SECRET, key)


async def test_a_key_naming_another_organization_than_its_record_is_refused(db: Database) -> None:
    _, key = await _recorded_key(db, new_uuid(), recorded_org=new_uuid())
    with pytest.raises(service.KeyRefused, match="unknown or revoked"):
        await service.verify_api_key(db, TEST_SECRET, key)
