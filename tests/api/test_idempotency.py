"""Idempotency-Key on every write (spec §8): replay, reuse conflicts, per-organization keys,
exactly-once under concurrency, expiry after 24 h."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from stockledger.service import idempotency
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.tables import idempotency_keys, movements
from tests.conftest import Api, new_uuid


def key_headers(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def restock_body(api: Api, product: str, variant: str, change: Any = 5) -> dict[str, Any]:
    locs = await api.locations()
    return {
        "changes": [
            {"productUuid": product, "variantUuid": variant, "fromLocationUuid": locs["SUPPLIER"],
             "toLocationUuid": locs["STORE"], "change": change}
        ]
    }  # fmt: skip


async def movement_count(db: Database, org: str) -> int:
    async def work(conn: Any) -> int:
        return int(
            await conn.scalar(select(func.count()).select_from(movements).where(movements.c.org_uuid == org))
        )

    return await db.read(work)


async def test_replay_returns_the_stored_answer_and_changes_nothing(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    first = await api.put("/organizations/self/inventory", json=body, headers=key_headers("k-1"))
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    second = await api.put("/organizations/self/inventory", json=body, headers=key_headers("k-1"))
    assert second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.headers["content-type"] == "application/json"
    assert await movement_count(db, api.org) == 1
    balance = (await api.get("/inventory")).json()["variants"][0]["balance"]
    assert balance == "5"


async def test_same_key_with_another_body_method_or_path_is_refused(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    assert (await api.put("/organizations/self/inventory", json=body, headers=key_headers("k"))).is_success
    other = await restock_body(api, product, variant, change=6)
    for method, path, payload in [
        ("PUT", "/organizations/self/inventory", other),
        ("POST", "/organizations/self/inventory/counts", body),
        ("POST", "/organizations/self/v2/inventory/bulk", body),
    ]:
        response = await api.request(method, path, json=payload, headers=key_headers("k"))
        assert response.status_code == 409, response.text
        assert response.json()["errorType"] == "IDEMPOTENCY_KEY_REUSED"
    assert await movement_count(db, api.org) == 1


async def test_self_and_own_uuid_are_the_same_request(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    assert (await api.put("/organizations/self/inventory", json=body, headers=key_headers("s"))).is_success
    again = await api.put(f"/organizations/{api.org}/inventory", json=body, headers=key_headers("s"))
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"


async def test_key_length_is_checked(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    for bad in ("", "x" * 256):
        response = await api.put("/organizations/self/inventory", json=body, headers=key_headers(bad))
        assert response.status_code == 400, response.text
        assert response.json()["violations"][0]["propertyName"] == "Idempotency-Key"
    ok = await api.put("/organizations/self/inventory", json=body, headers=key_headers("y" * 255))
    assert ok.status_code == 200
    assert (await api.get("/inventory")).json()["variants"][0]["balance"] == "5"


async def test_keys_belong_to_one_organization(api: Api, other_api: Api, db: Database) -> None:
    for client in (api, other_api):
        product, variant = new_uuid(), new_uuid()
        await client.track(product)
        body = await restock_body(client, product, variant)
        response = await client.put("/organizations/self/inventory", json=body, headers=key_headers("shared"))
        assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    assert await movement_count(db, api.org) == 1
    assert await movement_count(db, other_api.org) == 1


async def test_every_write_endpoint_is_covered(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    writes = [
        ("POST", "/organizations/self/inventory", {"productUuid": product}),
        ("POST", "/organizations/self/locations", {"name": "Pop-up"}),
        ("PUT", "/organizations/self/settings", {"allowNegativeStock": True}),
        ("POST", "/organizations/self/inventory/counts",
         {"counts": [{"productUuid": product, "variantUuid": variant, "balance": 3}]}),
        ("POST", "/organizations/self/v2/inventory/bulk",
         {"productChanges": [{"productUuid": product, "trackingStatusChange": "NO_CHANGE"}]}),
    ]  # fmt: skip
    for i, (method, path, body) in enumerate(writes):
        first = await api.request(method, path, json=body, headers=key_headers(f"w{i}"))
        assert first.status_code in (200, 201), first.text
        again = await api.request(method, path, json=body, headers=key_headers(f"w{i}"))
        assert again.headers.get("idempotent-replayed") == "true", path
        assert again.status_code == first.status_code and again.content == first.content
    stores = [
        loc for loc in (await api.get("/organizations/self/locations")).json() if loc["type"] == "STORE"
    ]
    assert len(stores) == 2  # the store was created once
    assert await movement_count(db, api.org) == 1  # the count applied once
    delete = await api.delete(f"/organizations/self/inventory/products/{product}", headers=key_headers("d"))
    assert delete.status_code == 204
    again = await api.delete(f"/organizations/self/inventory/products/{product}", headers=key_headers("d"))
    assert again.status_code == 204 and again.headers["idempotent-replayed"] == "true"


async def test_failed_requests_are_not_remembered(api: Api) -> None:
    product, variant = new_uuid(), new_uuid()
    body = await restock_body(api, product, variant)
    failed = await api.put("/organizations/self/inventory", json=body, headers=key_headers("retry-me"))
    assert failed.status_code == 400  # not tracked yet: nothing applied, so nothing stored
    await api.track(product)
    ok = await api.put("/organizations/self/inventory", json=body, headers=key_headers("retry-me"))
    assert ok.status_code == 200 and "idempotent-replayed" not in ok.headers


async def test_unauthenticated_requests_with_a_key_get_401(api: Api) -> None:
    response = await api.client.put(
        "/organizations/self/inventory", json={"changes": []}, headers=key_headers("anon")
    )
    assert response.status_code == 401


async def test_two_concurrent_requests_with_one_key_apply_once(api: Api, db: Database) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)

    async def send(key: str) -> httpx.Response:
        return await api.put("/organizations/self/inventory", json=body, headers=key_headers(key))

    for key in ("race-1", "race-2", "race-3"):  # several rounds exercise different interleavings
        responses = await asyncio.gather(*(send(key) for _ in range(4)))
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        assert len({r.content for r in responses}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
    assert await movement_count(db, api.org) == 3
    assert (await api.get("/inventory")).json()["variants"][0]["balance"] == "15"


async def test_keys_expire_after_24_hours_and_are_purged(
    api: Api, app: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    start = now_ms()
    state = app.state.stockledger  # the app's clock of key lifetimes
    monkeypatch.setattr(state, "idempotency_clock", lambda: start)
    assert (await api.put("/organizations/self/inventory", json=body, headers=key_headers("old"))).is_success
    almost = start + idempotency.KEY_TTL_MS - 1
    monkeypatch.setattr(state, "idempotency_clock", lambda: almost)
    replay = await api.put("/organizations/self/inventory", json=body, headers=key_headers("old"))
    assert replay.headers.get("idempotent-replayed") == "true"

    later = start + idempotency.KEY_TTL_MS + 1
    monkeypatch.setattr(state, "idempotency_clock", lambda: later)
    fresh = await api.put("/organizations/self/inventory", json=body, headers=key_headers("old"))
    assert fresh.status_code == 200 and "idempotent-replayed" not in fresh.headers
    assert (await api.get("/inventory")).json()["variants"][0]["balance"] == "10"

    async def keys_of(org: str) -> list[str]:
        async def work(conn: Any) -> list[str]:
            stmt = select(idempotency_keys.c.key).where(idempotency_keys.c.org_uuid == org)
            return list((await conn.scalars(stmt)).all())

        return await db.read(work)

    await api.put("/organizations/self/inventory", json=body, headers=key_headers("other"))
    assert sorted(await keys_of(api.org)) == ["old", "other"]
    purged = await idempotency.purge_expired(db, later + 2 * idempotency.KEY_TTL_MS)
    assert purged >= 2
    assert await keys_of(api.org) == []


async def test_the_service_purges_expired_keys_by_itself(
    api: Api, other_api: Api, app: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    start = now_ms()
    state = app.state.stockledger  # the app's clock of key lifetimes
    monkeypatch.setattr(state, "idempotency_clock", lambda: start)
    await api.put("/organizations/self/inventory", json=body, headers=key_headers("stale"))

    later = start + idempotency.KEY_TTL_MS + idempotency.PURGE_INTERVAL_MS + 1
    monkeypatch.setattr(state, "idempotency_clock", lambda: later)
    # any keyed write (here of another organization) triggers the opportunistic purge
    await other_api.put(
        "/organizations/self/settings", json={"allowNegativeStock": True}, headers=key_headers("x")
    )

    async def remaining(conn: Any) -> int:
        stmt = (
            select(func.count()).select_from(idempotency_keys).where(idempotency_keys.c.org_uuid == api.org)
        )
        return int(await conn.scalar(stmt))

    assert await db.read(remaining) == 0


async def test_applied_request_whose_answer_was_lost_is_not_applied_again(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between commit and storing the answer leaves the key without a response."""
    monkeypatch.setattr(idempotency, "REPLAY_WAIT_S", 0.05)  # how long a retry waits for it
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    assert (await api.put("/organizations/self/inventory", json=body, headers=key_headers("lost"))).is_success

    async def forget_answer(conn: Any) -> None:
        await conn.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.org_uuid == api.org, idempotency_keys.c.key == "lost")
            .values(status=None, body=None, content_type=None)
        )

    await db.write(forget_answer)
    response = await api.put("/organizations/self/inventory", json=body, headers=key_headers("lost"))
    assert response.status_code == 409
    assert "applied" in response.json()["developerMessage"]
    assert await movement_count(db, api.org) == 1


async def test_a_request_arriving_while_the_first_answer_is_being_stored_waits_for_it(
    api: Api, db: Database
) -> None:
    """The key committed, its answer not stored yet: the duplicate replays the answer once stored."""
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = await restock_body(api, product, variant)
    first = await api.put("/organizations/self/inventory", json=body, headers=key_headers("in-flight"))
    assert first.is_success

    async def set_answer(status: int | None, answer: bytes | None) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(
                idempotency_keys.update()
                .where(idempotency_keys.c.org_uuid == api.org, idempotency_keys.c.key == "in-flight")
                .values(
                    status=status, body=answer, content_type=first.headers["content-type"] if status else None
                )
            )

        await db.write(work)

    await set_answer(None, None)  # as between the first request's commit and its answer being stored
    duplicate = asyncio.create_task(
        api.put("/organizations/self/inventory", json=body, headers=key_headers("in-flight"))
    )
    await asyncio.sleep(0.05)
    assert not duplicate.done()
    await set_answer(first.status_code, first.content)
    replayed = await duplicate
    assert replayed.status_code == first.status_code
    assert replayed.content == first.content
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert await movement_count(db, api.org) == 1
