"""Inventory API v3 `POST /v3/movements` (v3 contract §7): each real client's body, 204 and nothing
else, one ledger with the old API, `identifier` echoed as `externalUuid` and never de-duplicated,
every refusal before any write, the old PUT's policies, Idempotency-Key and concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from stockledger.store.db import Database
from tests.api.test_inventory_writes import outbox_events_payloads
from tests.conftest import Api, new_uuid
from tests.integration.test_write_batches import in_order
from tests.integration.test_write_round_trips import _inserts, _write_path, captured
from tests.ledger import assert_ledger_invariant, snapshot

PATH = "/v3/movements"
# The integration UUID one client sends as `identifier` on every call, forever.
INTEGRATION_ID = "947d712a-892d-11ea-bc55-0242ac130003"
NEAR_LIMIT = "999999999999.999"  # the largest single change


def movement(product: str, variant: str, src: str, dst: str, change: Any = 1) -> dict[str, Any]:
    """One movement, keys in the order of the contract's example and of the client that sends
    `identifier` last."""
    return {"productUuid": product, "variantUuid": variant, "from": src, "to": dst, "change": change}


async def post(api: Api, body: Any, path: str = PATH, **kwargs: Any) -> httpx.Response:
    return await api.post(path, json=body, **kwargs)


def assert_no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "link" not in response.headers
    assert "content-type" not in response.headers


async def balances_at(api: Api, location: str) -> dict[tuple[str, str], str]:
    """(product, variant) → balance of a location, read through the old API."""
    response = await api.get(f"/organizations/self/inventory/locations/{location}")
    assert response.status_code == 200, response.text
    return {(r["productUuid"], r["variantUuid"]): r["balance"] for r in response.json()["variants"]}


async def balance(api: Api, location: str, product: str, variant: str) -> str | None:
    return (await balances_at(api, location)).get((product, variant))


async def tracked_variant(api: Api) -> tuple[str, str]:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    return product, variant


def version_1_uuid() -> str:
    return str(uuid.uuid1())


# ---- the clients' bodies ----


async def test_integration_id_body_moves_every_pair_the_client_uses_and_each_call_applies(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    steps = [("SUPPLIER", "STORE", 10), ("STORE", "SOLD", 3), ("SOLD", "STORE", 1), ("STORE", "BIN", 2)]
    for src, dst, change in steps:
        body = {
            "movements": [movement(product, variant, locs[src], locs[dst], change)],
            "identifier": INTEGRATION_ID,
        }
        assert_no_content(await post(api, body))
    assert await balance(api, locs["STORE"], product, variant) == "6"
    assert await balance(api, locs["SOLD"], product, variant) == "2"
    assert await balance(api, locs["BIN"], product, variant) == "2"
    assert await balance(api, locs["SUPPLIER"], product, variant) == "-10"
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.movement_count == 4

    events = await outbox_events_payloads(db, api.org)
    assert [e["externalUuid"] for e in events] == [INTEGRATION_ID] * 4
    store_after = []
    for event in events:
        for entry in event["balanceBefore"] + event["balanceAfter"]:
            assert entry["locationUuid"] == locs["STORE"]  # STORE entries only
            assert isinstance(entry["balance"], str)
        (after,) = event["balanceAfter"]
        store_after.append(after["balance"])
    assert store_after == ["10", "7", "8", "6"]


async def test_the_same_identifier_twice_applies_both_movements(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    body = {
        "movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], 3)],
        "identifier": INTEGRATION_ID,
    }
    assert_no_content(await post(api, body))
    assert_no_content(await post(api, body))  # the very same request: not a repeat to ignore
    other = {
        "movements": [movement(product, variant, locs["STORE"], locs["SOLD"], 1)],
        "identifier": INTEGRATION_ID,
    }
    assert_no_content(await post(api, other))
    assert await balance(api, locs["STORE"], product, variant) == "5"
    assert (await snapshot(db, api.org)).movement_count == 3


async def test_identifier_first_and_a_trailing_slash(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    identifier = version_1_uuid()
    body = {
        "identifier": identifier,
        "movements": [
            {
                "productUuid": product,
                "variantUuid": variant,
                "change": 4,
                "from": locs["SUPPLIER"],
                "to": locs["STORE"],
            }
        ],
    }
    assert_no_content(await post(api, body, path=PATH + "/"))
    (event,) = await outbox_events_payloads(db, api.org)
    assert event["externalUuid"] == identifier
    (after,) = event["balanceAfter"]
    assert after["locationUuid"] == locs["STORE"]
    assert after["productUuid"] == product and after["variantUuid"] == variant
    # The event's balance is what a read returns right after (the client compares them).
    assert after["balance"] == await balance(api, locs["STORE"], product, variant) == "4"
    assert event["balanceBefore"][0]["balance"] == "0"


async def test_no_identifier_echoes_a_null_external_uuid(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    for src, dst in (("SOLD", "STORE"), ("STORE", "SOLD")):
        body = {
            "movements": [
                {
                    "productUuid": product,
                    "variantUuid": variant,
                    "change": 2,
                    "from": locs[src],
                    "to": locs[dst],
                }
            ]
        }
        assert_no_content(await post(api, body))
    events = await outbox_events_payloads(db, api.org)
    assert len(events) == 2
    for event in events:
        assert "externalUuid" in event and event["externalUuid"] is None
    assert await balance(api, locs["STORE"], product, variant) == "0"
    assert await balance(api, locs["SOLD"], product, variant) == "0"


async def test_unknown_keys_are_ignored_and_store_to_supplier_is_accepted(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    extra = {"reason": "damaged", "timestamp": "2026-12-01T10:00:00.000Z", "note": {"any": ["thing"]}}
    body = {
        "movements": [{**extra, **movement(product, variant, locs["STORE"], locs["SUPPLIER"], 1)}],
        "identifier": version_1_uuid(),
        "comment": "ignored",
    }
    assert_no_content(await post(api, body))
    assert await balance(api, locs["STORE"], product, variant) == "-1"
    assert await balance(api, locs["SUPPLIER"], product, variant) == "1"


async def test_store_to_store_lists_both_stores_in_the_event(api: Api, db: Database) -> None:
    locs = await api.locations()
    created = await api.post("/organizations/self/locations", json={"name": "Back room"})
    assert created.status_code == 201, created.text
    second = created.json()["uuid"]
    product, variant = await tracked_variant(api)
    assert_no_content(
        await post(api, {"movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], 5)]})
    )
    assert_no_content(await post(api, {"movements": [movement(product, variant, locs["STORE"], second, 2)]}))
    assert await balance(api, locs["STORE"], product, variant) == "3"
    assert await balance(api, second, product, variant) == "2"
    transfer = (await outbox_events_payloads(db, api.org))[-1]
    assert {(e["locationUuid"], e["balance"]) for e in transfer["balanceAfter"]} == {
        (locs["STORE"], "3"),
        (second, "2"),
    }


async def test_a_movement_touching_no_store_raises_no_balance_event(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    assert_no_content(
        await post(api, {"movements": [movement(product, variant, locs["SOLD"], locs["BIN"], 1)]})
    )
    assert await balance(api, locs["BIN"], product, variant) == "1"
    assert await outbox_events_payloads(db, api.org) == []


async def test_several_movements_apply_in_order_in_one_request(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, v1, v2 = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    body = {
        "movements": [
            movement(product, v1, locs["SUPPLIER"], locs["STORE"], 42),
            movement(product, v2, locs["SUPPLIER"], locs["STORE"], 1337),
            movement(product, v1, locs["STORE"], locs["SOLD"], 2),
        ],
        "identifier": "order-1001",  # any string, not necessarily a UUID
    }
    assert_no_content(await post(api, body))
    assert await balances_at(api, locs["STORE"]) == {(product, v1): "40", (product, v2): "1337"}
    (event,) = await outbox_events_payloads(db, api.org)  # one request, one event
    assert event["externalUuid"] == "order-1001"
    assert {(e["variantUuid"], e["balance"]) for e in event["balanceAfter"]} == {(v1, "40"), (v2, "1337")}


async def test_an_identifier_of_255_characters_is_recorded_and_echoed_verbatim(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    identifier = "Ä" + "x" * 253 + " "
    body = {
        "movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], 1)],
        "identifier": identifier,
    }
    assert_no_content(await post(api, body))
    (event,) = await outbox_events_payloads(db, api.org)
    assert event["externalUuid"] == identifier
    history = await api.get("/organizations/self/inventory/movements")
    assert history.json()["movements"][0]["externalUuid"] == identifier


@pytest.mark.parametrize(
    ("change", "shown"),
    [(99_999, "99999"), (3, "3"), ("3.0", "3"), (2.5, "2.5"), ("0.001", "0.001"), ("3", "3")],
)
async def test_accepted_quantities(api: Api, change: Any, shown: str) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    assert_no_content(
        await post(api, {"movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], change)]})
    )
    assert await balance(api, locs["STORE"], product, variant) == shown


async def test_old_api_writes_and_v3_movements_share_one_ledger(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 5)).status_code == 200
    assert_no_content(
        await post(api, {"movements": [movement(product, variant, locs["STORE"], locs["SOLD"], 2)]})
    )
    put = await api.move(product, variant, locs["STORE"], locs["SOLD"], 1)
    assert put.json()["variants"][0]["balance"] == "2"  # the old answer saw the v3 movement
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(locs["STORE"], product, variant)] == 2000
    assert snap.movement_count == 3


async def test_movements_appear_in_the_history_with_their_identifier(api: Api) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    identifier = version_1_uuid()
    body = {
        "movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], "1.5")],
        "identifier": identifier,
    }
    assert_no_content(await post(api, body))
    response = await api.get("/organizations/self/inventory/movements", params={"externalUuid": identifier})
    assert response.status_code == 200, response.text
    (found,) = response.json()["movements"]
    assert found["externalUuid"] == identifier and found["source"] == "API" and found["actor"] == api.sub
    assert (found["fromLocationUuid"], found["toLocationUuid"]) == (locs["SUPPLIER"], locs["STORE"])
    assert (found["productUuid"], found["variantUuid"], found["change"]) == (product, variant, "1.5")


async def test_a_movement_reads_no_balance_for_an_answer_it_does_not_give(api: Api, db: Database) -> None:
    """A PUT moving SOLD → BIN also reads the default STORE's balance to answer with it; a v3
    movement answers 204 and takes only the lock, the validation read, the upsert and the ledger."""
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    with captured(db) as put_statements:
        assert (await api.move(product, variant, locs["SOLD"], locs["BIN"], 1)).status_code == 200
    with captured(db) as v3_statements:
        assert_no_content(
            await post(api, {"movements": [movement(product, variant, locs["SOLD"], locs["BIN"], 1)]})
        )
    assert any(s.startswith("SELECT balances.") for s in _write_path(put_statements))
    assert _write_path(v3_statements) == [
        "UPDATE organizations SET",
        "SELECT 'L' AS",
        "INSERT INTO balances",
        *_inserts(db, event=False),
    ]


# ---- refusals: 400 before any write, nothing changed ----

Ctx = dict[str, str]
Body = Callable[[Ctx], Any]


def _one(ctx: Ctx, **overrides: Any) -> dict[str, Any]:
    base = movement(ctx["product"], ctx["variant"], ctx["SUPPLIER"], ctx["STORE"], 1)
    return {"movements": [{**base, **overrides}], "identifier": INTEGRATION_ID}


def _two(ctx: Ctx, **second: Any) -> dict[str, Any]:
    """A valid movement followed by one with `second` overrides."""
    (first,) = _one(ctx)["movements"]
    return {"movements": [first, {**first, **second}]}


FIELDS = ("productUuid", "variantUuid", "from", "to", "change")


def _without(field: str) -> Body:
    def body(ctx: Ctx) -> Any:
        one = _one(ctx)
        del one["movements"][0][field]
        return one

    return body


REFUSED: list[tuple[str, Body, str]] = [
    ("no movements", lambda ctx: {"identifier": INTEGRATION_ID}, "movements"),
    ("empty movements", lambda ctx: {"movements": []}, "movements"),
    ("null movements", lambda ctx: {"movements": None}, "movements"),
    ("movements not an array", lambda ctx: {"movements": _one(ctx)["movements"][0]}, "movements"),
    ("a movement not an object", lambda ctx: {"movements": ["x"]}, "movements[0]"),
    ("body an array", lambda ctx: _one(ctx)["movements"], ""),
    *[(f"missing {f}", _without(f), f"movements[0].{f}") for f in FIELDS],
    *[
        (f"{f} not a UUID", lambda ctx, f=f: _one(ctx, **{f: "a"}), f"movements[0].{f}")
        for f in ("productUuid", "variantUuid", "from", "to")
    ],
    ("change zero", lambda ctx: _one(ctx, change=0), "movements[0].change"),
    ("change negative", lambda ctx: _one(ctx, change=-3), "movements[0].change"),
    ("change beyond thousandths", lambda ctx: _one(ctx, change=1.0005), "movements[0].change"),
    ("change not numeric", lambda ctx: _one(ctx, change="three"), "movements[0].change"),
    ("change an exponent string", lambda ctx: _one(ctx, change="1e3"), "movements[0].change"),
    ("change boolean", lambda ctx: _one(ctx, change=True), "movements[0].change"),
    ("change null", lambda ctx: _one(ctx, change=None), "movements[0].change"),
    ("change too large", lambda ctx: _one(ctx, change=10**12), "movements[0].change"),
    ("from equals to", lambda ctx: _one(ctx, to=ctx["SUPPLIER"]), "movements[0].to"),
    ("unknown from", lambda ctx: _one(ctx, **{"from": ctx["unknown"]}), "movements[0].from"),
    ("unknown to", lambda ctx: _one(ctx, to=ctx["unknown"]), "movements[0].to"),
    ("another organization's inventory", lambda ctx: _one(ctx, to=ctx["foreign"]), "movements[0].to"),
    ("identifier too long", lambda ctx: {**_one(ctx), "identifier": "x" * 256}, "identifier"),
    ("identifier not a string", lambda ctx: {**_one(ctx), "identifier": 17}, "identifier"),
    (
        "second movement invalid",
        lambda ctx: _two(ctx, change=-1),
        "movements[1].change",
    ),
    (
        "second movement with an unknown inventory",
        lambda ctx: _two(ctx, **{"from": ctx["unknown"]}),
        "movements[1].from",
    ),
]  # fmt: skip


@pytest.fixture
async def ctx(api: Api, other_api: Api) -> Ctx:
    """A tracked variant with 5 in the default store, the system inventories, an unknown UUID and
    another organization's STORE."""
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    assert_no_content(
        await post(api, {"movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], 5)]})
    )
    foreign = (await other_api.locations())["STORE"]
    return {**locs, "product": product, "variant": variant, "unknown": new_uuid(), "foreign": foreign}


@pytest.mark.parametrize(("case", "make", "property_name"), REFUSED, ids=[c[0] for c in REFUSED])
async def test_invalid_requests_are_refused_and_change_nothing(
    api: Api, db: Database, ctx: Ctx, case: str, make: Body, property_name: str
) -> None:
    before = await snapshot(db, api.org)
    response = await post(api, make(ctx))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errorType"] == "VALIDATION_ERROR"
    assert property_name in [v["propertyName"] for v in body["violations"]], body
    assert await snapshot(db, api.org) == before
    assert await balance(api, ctx["STORE"], ctx["product"], ctx["variant"]) == "5"


async def test_every_offence_is_named(api: Api, ctx: Ctx) -> None:
    body = {
        "movements": [
            movement(ctx["product"], ctx["variant"], ctx["STORE"], ctx["STORE"], 1),
            movement(ctx["product"], "nope", ctx["SUPPLIER"], ctx["STORE"], 0),
            movement(ctx["product"], ctx["variant"], ctx["BIN"], ctx["BIN"], 1),
        ]
    }
    response = await post(api, body)
    assert response.status_code == 400
    assert [v["propertyName"] for v in response.json()["violations"]] == [
        "movements[1].variantUuid",
        "movements[1].change",
    ]
    del body["movements"][1]
    response = await post(api, body)
    assert [v["propertyName"] for v in response.json()["violations"]] == [
        "movements[0].to",
        "movements[1].to",
    ]


async def test_more_movements_than_a_request_may_carry_are_refused(api: Api, db: Database, ctx: Ctx) -> None:
    one = movement(ctx["product"], ctx["variant"], ctx["SUPPLIER"], ctx["STORE"], "0.001")
    before = await snapshot(db, api.org)
    response = await post(api, {"movements": [one] * 1001})
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyName"] == "movements"
    assert await snapshot(db, api.org) == before
    assert_no_content(await post(api, {"movements": [one] * 1000}))
    assert await balance(api, ctx["STORE"], ctx["product"], ctx["variant"]) == "6"


async def test_an_untracked_product_is_refused_with_product_not_tracked(
    api: Api, db: Database, ctx: Ctx
) -> None:
    untracked = new_uuid()
    body = {
        "movements": [
            movement(ctx["product"], ctx["variant"], ctx["SUPPLIER"], ctx["STORE"], 1),
            movement(untracked, new_uuid(), ctx["SUPPLIER"], ctx["STORE"], 1),
        ],
        "identifier": INTEGRATION_ID,
    }
    before = await snapshot(db, api.org)
    response = await post(api, body)
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    assert response.json()["violations"][0]["propertyName"] == "movements[1].productUuid"
    assert await snapshot(db, api.org) == before


async def test_insufficient_stock_under_the_forbidding_policy_is_a_409(
    api: Api, db: Database, ctx: Ctx
) -> None:
    policy = await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    assert policy.status_code == 200, policy.text
    other = new_uuid()
    body = {
        "movements": [
            movement(ctx["product"], ctx["variant"], ctx["STORE"], ctx["SOLD"], 5),
            movement(ctx["product"], other, ctx["STORE"], ctx["SOLD"], 1),
        ]
    }
    before = await snapshot(db, api.org)
    response = await post(api, body)
    assert response.status_code == 409, response.text
    assert response.json()["errorType"] == "INSUFFICIENT_STOCK"
    assert [v["propertyName"] for v in response.json()["violations"]] == ["movements[1]"]
    assert await snapshot(db, api.org) == before
    # within the stock it works, and SUPPLIER (not a store) may go negative
    assert_no_content(await post(api, {"movements": [body["movements"][0]]}))
    assert_no_content(
        await post(api, {"movements": [movement(ctx["product"], other, ctx["SUPPLIER"], ctx["STORE"], 1)]})
    )
    assert await balance(api, ctx["STORE"], ctx["product"], ctx["variant"]) == "0"


async def test_a_balance_taken_out_of_range_is_refused(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    fill = movement(product, variant, locs["SUPPLIER"], locs["STORE"], NEAR_LIMIT)
    assert_no_content(await post(api, {"movements": [fill] * 1000}))
    assert await balance(api, locs["STORE"], product, variant) == "999999999999999"
    before = await snapshot(db, api.org)
    response = await post(
        api, {"movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], 2)]}
    )
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyName"] == "movements[0].change"
    assert "outside ±1000000000000000" in response.json()["violations"][0]["developerMessage"]
    assert await snapshot(db, api.org) == before


async def test_a_token_without_write_scope_is_refused(api: Api, db: Database, ctx: Ctx) -> None:
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    before = await snapshot(db, api.org)
    response = await post(reader, _one(ctx))
    assert response.status_code == 403 and response.json()["errorType"] == "FORBIDDEN"
    assert await snapshot(db, api.org) == before


# ---- Idempotency-Key ----


async def test_a_retry_with_the_same_idempotency_key_applies_once(api: Api, db: Database, ctx: Ctx) -> None:
    body = _one(ctx)
    headers = {"Idempotency-Key": "v3-move-1"}
    first = await post(api, body, headers=headers)
    assert_no_content(first)
    assert "idempotent-replayed" not in first.headers
    again = await post(api, body, headers=headers)
    assert again.status_code == 204 and again.content == b""
    assert again.headers["idempotent-replayed"] == "true"
    assert await balance(api, ctx["STORE"], ctx["product"], ctx["variant"]) == "6"
    reused = await post(api, _one(ctx, change=2), headers=headers)
    assert reused.status_code == 409 and reused.json()["errorType"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await snapshot(db, api.org)).movement_count == 2  # the fixture's and this one


async def test_concurrent_retries_with_one_idempotency_key_apply_once(
    api: Api, db: Database, ctx: Ctx
) -> None:
    body = _one(ctx)
    responses = await asyncio.gather(
        *(post(api, body, headers={"Idempotency-Key": "v3-race"}) for _ in range(4))
    )
    assert [r.status_code for r in responses] == [204] * 4, [r.text for r in responses]
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
    assert await balance(api, ctx["STORE"], ctx["product"], ctx["variant"]) == "6"


# ---- one write queue with the old PUT ----


async def test_v3_movements_and_puts_share_a_batch_and_each_is_decided_alone(
    api: Api, db: Database, ctx: Ctx
) -> None:
    store, supplier = ctx["STORE"], ctx["SUPPLIER"]
    product, variant = ctx["product"], ctx["variant"]
    untracked = new_uuid()
    responses = await in_order(
        api,
        [
            lambda: post(
                api, {"movements": [movement(product, variant, supplier, store, 1)], "identifier": "a"}
            ),
            lambda: api.move(product, variant, supplier, store, 2, externalUuid="b"),
            lambda: post(api, {"movements": [movement(untracked, variant, supplier, store, 1)]}),
            lambda: post(
                api, {"movements": [movement(product, variant, store, ctx["SOLD"], 4)], "identifier": "c"}
            ),
            lambda: api.move(product, variant, supplier, store, 1),
        ],
    )
    assert [r.status_code for r in responses] == [204, 200, 400, 204, 200], [r.text for r in responses]
    assert responses[1].json()["variants"][0]["balance"] == "8"
    assert responses[2].json()["errorType"] == "PRODUCT_NOT_TRACKED"
    assert responses[4].json()["variants"][0]["balance"] == "5"
    events = await outbox_events_payloads(db, api.org)
    assert [e["externalUuid"] for e in events[-4:]] == ["a", "b", "c", None]
    assert [e["balanceAfter"][0]["balance"] for e in events[-4:]] == ["6", "8", "4", "5"]
    await assert_ledger_invariant(db, api.org)


@pytest.mark.postgres_only
async def test_fifty_concurrent_movements_on_one_variant_sum_exactly(api: Api, db: Database) -> None:
    locs = await api.locations()
    product, variant = await tracked_variant(api)
    body = {
        "movements": [movement(product, variant, locs["SUPPLIER"], locs["STORE"], "1.5")],
        "identifier": INTEGRATION_ID,
    }
    responses = await asyncio.gather(*(post(api, body) for _ in range(50)))
    assert [r.status_code for r in responses] == [204] * 50, [
        r.text for r in responses if r.status_code != 204
    ]
    snap = await assert_ledger_invariant(db, api.org)
    assert snap.balances[(locs["STORE"], product, variant)] == 75_000
    assert snap.movement_count == 50
    assert await balance(api, locs["STORE"], product, variant) == "75"
    # Each movement was announced with the balance it left: 1.5, 3, 4.5 … 75, each once.
    events = await outbox_events_payloads(db, api.org)
    after = [Decimal(e["balanceAfter"][0]["balance"]) for e in events]
    assert sorted(after) == [Decimal("1.5") * k for k in range(1, 51)]


@pytest.mark.postgres_only
async def test_concurrent_v3_movements_and_puts_over_several_variants_sum_exactly(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    variants = [new_uuid() for _ in range(4)]
    requests = []
    for i in range(40):
        v = variants[i % 4]
        if (i // 4) % 2:
            requests.append(
                post(
                    api,
                    {
                        "movements": [
                            movement(product, v, locs["SUPPLIER"], locs["STORE"], 3),
                            movement(product, v, locs["STORE"], locs["SOLD"], 1),
                        ]
                    },
                )
            )
        else:
            requests.append(api.move(product, v, locs["SUPPLIER"], locs["STORE"], 2))
    responses = await asyncio.gather(*requests)
    assert sorted(r.status_code for r in responses) == [200] * 20 + [204] * 20
    snap = await assert_ledger_invariant(db, api.org)
    for v in variants:
        assert snap.balances[(locs["STORE"], product, v)] == (5 * 2 + 5 * 2) * 1000
    assert snap.movement_count == 20 + 40
