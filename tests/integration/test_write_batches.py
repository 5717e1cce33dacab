"""PUTs of one organization that wait for each other share one transaction (store/write_queue.py),
and each is still validated, applied, numbered, announced and answered as if it ran alone, in
arrival order: one core (service/posting.py over domain/ledger.py) posts a lone PUT and a batch."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from stockledger.store import balances as balances_store
from stockledger.store.db import Database
from stockledger.store.tables import movements, outbox
from tests.api import low_stock_support as ls
from tests.conftest import Api, new_uuid
from tests.integration.test_write_round_trips import captured
from tests.ledger import assert_ledger_invariant


def api_database(api: Api) -> Database:
    """The database of the app `api` talks to (in process): its write queues are the ones to hold."""
    transport = api.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    database: Database = transport.app.state.stockledger.db  # type: ignore[attr-defined]
    return database


async def in_order(
    api: Api, requests: Sequence[Callable[[], Awaitable[httpx.Response]]]
) -> list[httpx.Response]:
    """Queue the requests one after the other (each reaches the queue before the next starts), then
    let them run as one batch."""
    tasks = []
    queues = api_database(api).queues
    async with queues.serialised(api.org):
        for make in requests:
            tasks.append(asyncio.ensure_future(make()))
            for _ in range(5000):
                if queues.waiting(api.org) >= len(tasks):
                    break
                await asyncio.sleep(0.001)
            else:
                raise AssertionError("a request did not reach the queue")
    return list(await asyncio.gather(*tasks))


def _batch_sizes() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("stockledger_write_batch_size_count") or 0.0
    total = REGISTRY.get_sample_value("stockledger_write_batch_size_sum") or 0.0
    return count, total


async def _ledger(db: Database, org: str) -> list[tuple[int, str | None, str | None]]:
    async def work(conn: Any) -> list[tuple[int, str | None, str | None]]:
        rows = await conn.execute(
            select(movements.c.seq, movements.c.external_uuid, movements.c.actor)
            .where(movements.c.org_uuid == org)
            .order_by(movements.c.seq)
        )
        return [(int(r[0]), r[1], r[2]) for r in rows.all()]

    return await db.read(work)


async def _balance_events(db: Database, org: str) -> list[dict[str, Any]]:
    async def work(conn: Any) -> list[dict[str, Any]]:
        rows = await conn.scalars(
            select(outbox.c.payload)
            .where(outbox.c.org_uuid == org, outbox.c.event_name == "InventoryBalanceChanged")
            .order_by(outbox.c.id)
        )
        return [orjson.loads(p) for p in rows.all()]

    return await db.read(work)


async def test_waiting_puts_commit_together_and_each_is_answered_as_if_alone(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, hot, other = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    base = (await assert_ledger_invariant(db, api.org)).seq
    externals = [new_uuid() for _ in range(12)]
    # every third request moves another variant; the others add 1 each to the hot one
    requests = [
        (
            lambda i=i: api.move(
                product,
                other if i % 3 == 2 else hot,
                locs["SUPPLIER"],
                locs["STORE"],
                1,
                externalUuid=externals[i],
            )
        )
        for i in range(12)
    ]
    sizes_before = _batch_sizes()
    with captured(db) as statements:
        responses = await in_order(api, requests)
    count, total = (after - before for after, before in zip(_batch_sizes(), sizes_before, strict=True))
    assert (count, total) == (1, 12)  # the stockledger_write_batch_size histogram saw one batch of 12
    assert [r.status_code for r in responses] == [200] * 12, [r.text for r in responses]
    # one transaction: one lock + sequence allocation for the twelve
    assert sum(s.startswith("UPDATE organizations SET seq") for s in statements) == 1

    # each answer is the balance right after that request, in arrival order
    hot_seen = [r.json()["variants"][0]["balance"] for i, r in enumerate(responses) if i % 3 != 2]
    other_seen = [r.json()["variants"][0]["balance"] for i, r in enumerate(responses) if i % 3 == 2]
    assert hot_seen == [str(n) for n in range(1, 9)]
    assert other_seen == [str(n) for n in range(1, 5)]

    # ledger: consecutive sequence numbers in arrival order, each row with its request's externalUuid
    ledger = await _ledger(db, api.org)
    assert [seq for seq, _, _ in ledger] == list(range(base + 1, base + 13))
    assert [ext for _, ext, _ in ledger] == externals
    assert {actor for _, _, actor in ledger} == {api.sub}
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.seq == base + 12
    assert snap.balances[(locs["STORE"], product, hot)] == 8000

    # one event per request, in arrival order, with that request's before and after
    events = await _balance_events(db, api.org)
    assert [e["externalUuid"] for e in events] == externals
    hot_after = [
        e["balanceAfter"][0]["balance"] for e in events if e["balanceAfter"][0]["variantUuid"] == hot
    ]
    hot_before = [
        e["balanceBefore"][0]["balance"] for e in events if e["balanceAfter"][0]["variantUuid"] == hot
    ]
    assert hot_after == [str(n) for n in range(1, 9)]
    assert hot_before == [str(n) for n in range(0, 8)]

    # `since` after the batch reports nothing new; before the last request it reports that request's variant
    latest = (await api.get("/inventory")).json()["latest"]
    assert (await api.get(f"/inventory?since={latest}")).json()["variants"] == []
    since_11 = (await api.get(f"/inventory?since={base + 11}")).json()["variants"]
    assert [v["variantUuid"] for v in since_11] == [other]


async def test_a_put_that_fails_validation_fails_alone_and_takes_no_sequence_number(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, untracked, variant = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    base = (await assert_ledger_invariant(db, api.org)).seq
    requests = [
        lambda: api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1),
        lambda: api.move(untracked, variant, locs["SUPPLIER"], locs["STORE"], 1),
        lambda: api.move(product, variant, locs["SUPPLIER"], new_uuid(), 1),
        lambda: api.move(
            product, variant, locs["SUPPLIER"], locs["STORE"], 1, returnBalanceForLocationUuid=new_uuid()
        ),
        lambda: api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 2),
    ]
    responses = await in_order(api, requests)
    assert responses[0].status_code == 200
    assert responses[4].status_code == 200
    for failed in responses[1:4]:
        assert failed.status_code in (400, 404), failed.text
        assert "developerMessage" in failed.json() or "errorType" in failed.json()
    assert responses[0].json()["variants"][0]["balance"] == "1"
    assert responses[4].json()["variants"][0]["balance"] == "3"
    # the same errors as alone
    alone = await api.move(untracked, variant, locs["SUPPLIER"], locs["STORE"], 1)
    assert responses[1].json() == alone.json()
    ledger = await _ledger(db, api.org)
    assert [seq for seq, _, _ in ledger] == [base + 1, base + 2]
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.seq == base + 2  # the failed ones took no numbers: no gap before the next write
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1)).status_code == 200
    assert [seq for seq, _, _ in await _ledger(db, api.org)] == [base + 1, base + 2, base + 3]


async def test_a_put_refused_by_the_negative_stock_policy_is_refused_alone(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    response = await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    assert response.status_code == 200, response.text
    requests = [
        lambda: api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 3),
        lambda: api.move(product, variant, locs["STORE"], locs["SOLD"], 5),  # 3 − 5 < 0: refused
        lambda: api.move(product, variant, locs["STORE"], locs["SOLD"], 2),  # 3 − 2: fine
    ]
    responses = await in_order(api, requests)
    assert [r.status_code for r in responses] == [200, 409, 200], [r.text for r in responses]
    assert responses[1].json()["errorType"] == "INSUFFICIENT_STOCK"
    assert responses[2].json()["variants"][0]["balance"] == "1"
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(locs["STORE"], product, variant)] == 1000
    assert len(await _ledger(db, api.org)) == 2


async def test_answers_show_balances_of_the_answer_location_at_their_own_point(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, seeded, fresh = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, seeded, locs["SUPPLIER"], locs["BIN"], 2)).status_code == 200
    requests = [
        # answers about BIN, where it changed nothing: the stored balance (untouched by the batch)
        lambda: api.move(
            product, seeded, locs["SUPPLIER"], locs["STORE"], 1, returnBalanceForLocationUuid=locs["BIN"]
        ),
        # answers about BIN for a variant that only a LATER request of the batch puts there: no row yet
        lambda: api.move(
            product, fresh, locs["SUPPLIER"], locs["STORE"], 4, returnBalanceForLocationUuid=locs["BIN"]
        ),
        lambda: api.move(
            product, fresh, locs["STORE"], locs["BIN"], 1, returnBalanceForLocationUuid=locs["BIN"]
        ),
        # about BIN after an EARLIER request of the batch changed it
        lambda: api.move(
            product, fresh, locs["SUPPLIER"], locs["STORE"], 1, returnBalanceForLocationUuid=locs["BIN"]
        ),
    ]
    responses = await in_order(api, requests)
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert bodies[0]["locationUuid"] == locs["BIN"]
    assert bodies[0]["variants"][0]["balance"] == "2"
    assert bodies[1]["variants"] == []
    assert bodies[2]["variants"][0]["balance"] == "1"
    assert bodies[3]["variants"][0]["balance"] == "1"
    await assert_ledger_invariant(db, api.org)


async def test_the_same_idempotency_key_twice_in_one_batch_applies_once(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    body = {
        "changes": [
            {
                "productUuid": product,
                "variantUuid": variant,
                "fromLocationUuid": locs["SUPPLIER"],
                "toLocationUuid": locs["STORE"],
                "change": 1,
            }
        ]
    }
    other = {**body, "externalUuid": new_uuid()}

    def send(payload: dict[str, Any], key: str) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: api.put(
            "/organizations/self/inventory", json=payload, headers={"Idempotency-Key": key}
        )

    responses = await in_order(api, [send(body, "k1"), send(body, "k1"), send(other, "k1"), send(body, "k2")])
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 200, 409, 200], [r.text for r in responses]
    assert responses[1].headers.get("Idempotent-Replayed") == "true"
    assert (
        responses[1].json()
        == responses[0].json()
        == {
            **responses[0].json(),
            "variants": [{**responses[0].json()["variants"][0], "balance": "1"}],
        }
    )
    assert responses[3].json()["variants"][0]["balance"] == "2"
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.movement_count == 2
    # a later retry of k1 replays the stored answer
    again = await send(body, "k1")()
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert (await assert_ledger_invariant(db, api.org)).movement_count == 2


async def test_a_put_whose_key_is_taken_is_not_counted_by_the_puts_after_it(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (
        await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    ).status_code == 200

    def send(src: str, dst: str, units: int, key: str) -> Callable[[], Awaitable[httpx.Response]]:
        change = {"productUuid": product, "variantUuid": variant, "change": units}
        body = {"changes": [{**change, "fromLocationUuid": locs[src], "toLocationUuid": locs[dst]}]}
        return lambda: api.put("/organizations/self/inventory", json=body, headers={"Idempotency-Key": key})

    responses = await in_order(
        api,
        [
            send("SUPPLIER", "STORE", 5, "k1"),
            send("SUPPLIER", "STORE", 5, "k1"),  # the same request again: replayed, applied once
            send("STORE", "SOLD", 8, "k2"),  # 5 − 8 < 0; counting the replayed duplicate it would pass
        ],
    )
    assert [r.status_code for r in responses] == [200, 200, 409], [r.text for r in responses]
    assert responses[1].headers.get("Idempotent-Replayed") == "true"
    assert responses[2].json()["errorType"] == "INSUFFICIENT_STOCK"
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(locs["STORE"], product, variant)] == 5000
    assert snap.movement_count == 1


async def test_low_stock_crossings_are_announced_by_the_request_that_crosses(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await ls.stock(api, locs, product, variant, 5)
    await ls.put(api, locs["STORE"], product, variant, lowStockAlert=True, lowStockLevel="2")
    requests = [
        lambda: api.move(product, variant, locs["STORE"], locs["SOLD"], 1),  # 4
        lambda: api.move(product, variant, locs["STORE"], locs["SOLD"], 2),  # 2: crosses
        lambda: api.move(product, variant, locs["STORE"], locs["SOLD"], 1),  # 1: already below
    ]
    with captured(db) as statements:
        responses = await in_order(api, requests)
    assert [r.status_code for r in responses] == [200] * 3
    # the batch read the alert levels once, not once per request
    assert sum("FROM low_stock_levels" in s and "level_units" in s for s in statements) == 1
    found = await ls.low_stock_events(db, api.org)
    assert [e["balance"] for e in found] == ["2"]


def _normalise(value: Any, names: dict[str, str]) -> Any:
    """Location UUIDs of an organization replaced by their type, so two organizations compare."""
    if isinstance(value, dict):
        return {k: _normalise(v, names) for k, v in value.items() if k not in ("organizationUuid", "updated")}
    if isinstance(value, list):
        return [_normalise(v, names) for v in value]
    if isinstance(value, str):
        for location, name in names.items():
            value = value.replace(location, name)
    return value


@pytest.mark.parametrize("seed", range(6))
async def test_a_batch_does_exactly_what_the_same_puts_do_one_after_the_other(
    client: httpx.AsyncClient, db: Database, seed: int
) -> None:
    rng = random.Random(seed)
    batched, alone = Api(client, new_uuid()), Api(client, new_uuid())
    products = [new_uuid() for _ in range(3)]
    variants = [(p, new_uuid()) for p in products for _ in range(2)]
    untracked = new_uuid()
    locs_b, locs_a = await batched.locations(), await alone.locations()
    for api in (batched, alone):
        for product in products:
            await api.track(product)
        if seed % 2:  # half the examples refuse negative stock: some PUTs of the batch are refused
            response = await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
            assert response.status_code == 200
    types = ["STORE", "SOLD", "BIN", "SUPPLIER"]
    plans = []
    for _ in range(16):
        changes = []
        for _change in range(rng.choice([1, 1, 2, 3])):
            src, dst = rng.sample(types, 2)
            product, variant = rng.choice(variants)
            if rng.random() < 0.05:
                product = untracked
            changes.append((product, variant, src, dst, rng.choice(["1", "2", "0.5", "3"])))
        answer = rng.choice([None, "STORE", "BIN"])
        plans.append((changes, answer, str(uuid.UUID(int=rng.getrandbits(128), version=4))))

    def request(api: Api, locs: dict[str, str], n: int) -> Callable[[], Awaitable[httpx.Response]]:
        changes, answer, external = plans[n]
        body: dict[str, Any] = {
            "changes": [
                {
                    "productUuid": p,
                    "variantUuid": v,
                    "fromLocationUuid": locs[s],
                    "toLocationUuid": locs[d],
                    "change": units,
                }
                for p, v, s, d, units in changes
            ],
            "externalUuid": external,
        }
        if answer is not None:
            body["returnBalanceForLocationUuid"] = locs[answer]
        return lambda: api.put("/organizations/self/inventory", json=body)

    together = await in_order(batched, [request(batched, locs_b, n) for n in range(len(plans))])
    one_by_one = [await request(alone, locs_a, n)() for n in range(len(plans))]

    names_b = {u: t for t, u in locs_b.items()}
    names_a = {u: t for t, u in locs_a.items()}
    assert [r.status_code for r in together] == [r.status_code for r in one_by_one]
    for b, a in zip(together, one_by_one, strict=True):
        assert _normalise(b.json(), names_b) == _normalise(a.json(), names_a)
    snap_b = await assert_ledger_invariant(db, batched.org)
    snap_a = await assert_ledger_invariant(db, alone.org)
    assert snap_b.seq == snap_a.seq
    assert {(names_b[k[0]], k[1], k[2]): u for k, u in snap_b.balances.items()} == {
        (names_a[k[0]], k[1], k[2]): u for k, u in snap_a.balances.items()
    }
    assert [(s, e) for s, e, _ in await _ledger(db, batched.org)] == [
        (s, e) for s, e, _ in await _ledger(db, alone.org)
    ]
    events_b = [_normalise(e, names_b) for e in await _balance_events(db, batched.org)]
    events_a = [_normalise(e, names_a) for e in await _balance_events(db, alone.org)]
    for events in (events_a, events_b):
        for e in events:
            for record in e["balanceAfter"]:
                record.pop("created")
    assert events_b == events_a


async def test_a_database_error_one_put_causes_fails_that_put_alone(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    locs = await api.locations()
    product, fine, poison = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    real = balances_store.apply_deltas

    async def failing_on_poison(conn: Any, org: str, deltas: dict[Any, int], *args: Any) -> Any:
        if any(key[2] == poison for key in deltas):
            raise DBAPIError("UPDATE balances …", {}, Exception("numeric field overflow"))
        return await real(conn, org, deltas, *args)

    monkeypatch.setattr(balances_store, "apply_deltas", failing_on_poison)
    requests = [
        lambda: api.move(product, fine, locs["SUPPLIER"], locs["STORE"], 1),
        lambda: api.move(product, poison, locs["SUPPLIER"], locs["STORE"], 1),
        lambda: api.move(product, fine, locs["SUPPLIER"], locs["STORE"], 1),
    ]
    responses = await in_order(api, requests)
    assert [r.status_code for r in responses] == [200, 500, 200]
    assert responses[2].json()["variants"][0]["balance"] == "2"
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.movement_count == 2


async def test_a_transient_conflict_retries_the_batch_as_a_batch(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    real = balances_store.apply_deltas
    calls: list[int] = []

    async def conflicting_once(conn: Any, org: str, deltas: dict[Any, int], *args: Any) -> Any:
        calls.append(len(deltas))
        if len(calls) == 1:
            raise DBAPIError("UPDATE balances …", {}, Exception("deadlock detected"))
        return await real(conn, org, deltas, *args)

    monkeypatch.setattr(balances_store, "apply_deltas", conflicting_once)
    requests = [lambda: api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1) for _ in range(3)]
    responses = await in_order(api, requests)
    assert [r.json()["variants"][0]["balance"] for r in responses] == ["1", "2", "3"]
    assert len(calls) == 2  # the batch twice, not each PUT alone
    assert (await assert_ledger_invariant(db, api.org)).movement_count == 3
