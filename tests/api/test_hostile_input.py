"""Hostile input gets a clear 4xx in the Zettle shape and leaves the database exactly as it was."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import balances, movements, organizations, outbox
from tests.conftest import Api


async def checksum(db: Database, org: str) -> str:
    """A digest of everything a write could touch for one organization."""

    async def work(conn: AsyncConnection) -> str:
        digest = hashlib.sha256()
        for table, order in (
            (balances, [balances.c.location_uuid, balances.c.product_uuid, balances.c.variant_uuid]),
            (movements, [movements.c.seq]),
            (outbox, [outbox.c.id]),
            (organizations, [organizations.c.uuid]),
        ):
            org_column = table.c.uuid if table is organizations else table.c.org_uuid
            rows = (await conn.execute(select(table).where(org_column == org).order_by(*order))).all()
            digest.update(repr([tuple(r) for r in rows]).encode())
        return digest.hexdigest()

    return await db.read(work)


def change(s: dict[str, str], value: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "productUuid": s["product"],
        "variantUuid": s["variant"],
        "fromLocationUuid": s["SUPPLIER"],
        "toLocationUuid": s["STORE"],
        "change": value,
    }
    body.update(overrides)
    return body


def raw_put(api: Api, content: bytes, content_type: str = "application/json") -> Any:
    return api.put("/organizations/self/inventory", content=content, headers={"Content-Type": content_type})


HOSTILE_QUANTITY_LITERALS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"1e12",
    b"0.0001",
    b"-0",
    b"0",
    b"-1",
]
HOSTILE_QUANTITY_STRINGS = ["-0", "0.0001", "1e3", "NaN", "inf", " 1", "1 ", "0x10", "", "1_000", "١"]


@pytest.mark.parametrize("literal", HOSTILE_QUANTITY_LITERALS, ids=lambda b: b.decode())
async def test_hostile_quantity_literals_are_rejected_and_change_nothing(
    api: Api, db: Database, stocked: dict[str, str], literal: bytes
) -> None:
    before = await checksum(db, api.org)
    template = json.dumps({"changes": [change(stocked, "__Q__")]}).encode()
    response = await raw_put(api, template.replace(b'"__Q__"', literal))
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert await checksum(db, api.org) == before


@pytest.mark.parametrize("text", HOSTILE_QUANTITY_STRINGS)
async def test_hostile_quantity_strings_are_rejected_and_change_nothing(
    api: Api, db: Database, stocked: dict[str, str], text: str
) -> None:
    before = await checksum(db, api.org)
    response = await api.put("/organizations/self/inventory", json={"changes": [change(stocked, text)]})
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyName"] == "changes[0].change"
    assert await checksum(db, api.org) == before


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"[]",
        b'"changes"',
        b"\xff\xfe{}",
        b'{"changes": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        b'{"changes": {"a": 1}}',
        b"null",
    ],
    ids=["truncated", "array", "string", "invalid-utf8", "deeply-nested", "object-for-list", "null"],
)
async def test_malformed_bodies_answer_400_in_zettle_shape(
    api: Api, db: Database, stocked: dict[str, str], content: bytes
) -> None:
    before = await checksum(db, api.org)
    response = await raw_put(api, content)
    assert response.status_code == 400, response.text
    assert set(response.json()) >= {"developerMessage", "errorType"}
    assert await checksum(db, api.org) == before


async def test_wrong_content_type_is_rejected(api: Api, db: Database, stocked: dict[str, str]) -> None:
    before = await checksum(db, api.org)
    body = json.dumps({"changes": [change(stocked, 1)]}).encode()
    response = await raw_put(api, body, "text/plain")
    assert response.status_code == 400
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert await checksum(db, api.org) == before


async def test_huge_json_over_the_limit_is_413(api: Api, db: Database, stocked: dict[str, str]) -> None:
    before = await checksum(db, api.org)
    body = json.dumps({"changes": [change(stocked, 1)] * 60_000}).encode()  # ~13 MB > 5 MB
    response = await raw_put(api, body)
    assert response.status_code == 413
    assert response.json()["errorType"] == "PAYLOAD_TOO_LARGE"
    assert await checksum(db, api.org) == before


async def test_10001_changes_are_rejected(api: Api, db: Database, stocked: dict[str, str]) -> None:
    before = await checksum(db, api.org)
    response = await api.put("/organizations/self/inventory", json={"changes": [change(stocked, 1)] * 10_001})
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "changes"
    assert await checksum(db, api.org) == before


@pytest.mark.parametrize(
    "bad_uuid",
    [
        "{" + "a" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12 + "}",
        "urn:uuid:" + "a" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12,
        "x" * 36,
        "",
    ],
)
async def test_uuids_with_braces_or_prefixes_are_rejected(
    api: Api, db: Database, stocked: dict[str, str], bad_uuid: str
) -> None:
    before = await checksum(db, api.org)
    response = await api.put(
        "/organizations/self/inventory", json={"changes": [change(stocked, 1, variantUuid=bad_uuid)]}
    )
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "changes[0].variantUuid"
    assert await checksum(db, api.org) == before


async def test_upper_case_uuids_are_accepted_and_answered_lower_case(
    api: Api, stocked: dict[str, str]
) -> None:
    body = {k: v.upper() if k.endswith("Uuid") else v for k, v in change(stocked, 1).items()}
    response = await api.put("/organizations/self/inventory", json={"changes": [body]})
    assert response.status_code == 200, response.text
    record = response.json()["variants"][0]
    assert record["variantUuid"] == stocked["variant"]
    assert record["balance"] == "6"


@pytest.mark.parametrize(
    "path",
    [
        "/organizations/self/inventory/locations/..%2F..%2Fetc%2Fpasswd",
        "/organizations/self/inventory/locations/%2e%2e%2f%2e%2e%2finventory",
        "/organizations/..%2Fself/inventory",
        "/organizations/self/inventory/locations/%00",
    ],
)
async def test_path_traversal_in_path_parameters_is_a_clear_4xx(api: Api, path: str) -> None:
    response = await api.get(path)
    assert 400 <= response.status_code < 500
    assert "errorType" in response.json()


async def test_header_injection_in_request_id_is_not_echoed(api: Api) -> None:
    response = await api.get("/inventory", headers={"X-Request-ID": "abc\tinjected: yes"})
    assert response.status_code == 200
    assert "injected" not in response.headers.get("x-request-id", "")
    assert "injected" not in response.headers
