"""PayPal Point of Sale for WooCommerce, its Inventory v3 part (v3-client-calls.md §1).

How the plugin's SDK talks: every request, GETs included, carries `Content-Type: application/json`
and no `Accept`; GET bodies are empty; POST bodies are `json_encode`d in its key order. Any status
from 200 to 399 is success, a 204's empty body reads as `[]`. On a 400, 401 or 500 it fetches a new
token and sends the very same request once more; the second answer is final. It never follows a
`Link` header. Its fields are typed under `strict_types` (a null where a string is declared is a
fatal error).

Its sync job: read the inventories once (keyed by type, so the last STORE wins), read the product's
STORE stock (on `PRODUCT_NOT_TRACKED`: enable tracking, try again later), then move the difference
with its one integration UUID as `identifier`, at most 99,999 per call. Its webhook handler ignores
`InventoryBalanceChanged` events whose `externalUuid` is that UUID, keys balance entries by variant
only, and reads the stock back right after applying one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from stockledger.tokens import ACCESS_TOKEN_TTL_S
from tests.clients.v3_support import (
    INVENTORY_TYPES,
    decoded_array,
    delivered,
    error_type,
    events_named,
    is_strict_string,
    ledger_size,
    old_balance,
    old_locations,
    php_int,
    php_json,
    send,
    subscribed,
)
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture

INTEGRATION_ID = "947d712a-892d-11ea-bc55-0242ac130003"  # the plugin's own test value (a v1 UUID)
MAX_CHANGE = 99_999  # the SDK's cap per movement
REPLAYED = {400, 401, 500}


@dataclass
class Inpsyde:
    """The SDK's Inventory client over stockledger: its transport, its replay, its typed reads."""

    api: Api
    sent: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status of every send
    stale_token: str | None = None  # a token that expired since the plugin cached it; used once
    _inventories: dict[str, str] | None = None

    async def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        content = php_json(body) if body is not None else None
        for _attempt in range(2):
            token, self.stale_token = self.stale_token, None
            response = await send(
                self.api,
                method,
                path,
                headers={"Content-Type": "application/json"},
                body=content,
                without=("Accept",),
                token=token,
            )
            assert "accept" not in response.request.headers
            self.sent.append((method, path, response.status_code))
            if response.status_code not in REPLAYED:
                break
        return response  # the second answer is final

    @staticmethod
    def ok(response: httpx.Response) -> bool:
        return 200 <= response.status_code < 400

    async def inventories(self) -> dict[str, str]:
        """`Locations::all()`: type → inventoryUuid, the last element of a type winning."""
        if self._inventories is None:
            response = await self.request("GET", "/v3/inventories")
            assert self.ok(response), response.text
            by_type: dict[str, str] = {}
            for row in decoded_array(response):
                assert row["inventoryType"] in INVENTORY_TYPES, row  # an unknown case is a fatal error
                assert is_strict_string(row["inventoryUuid"]) and is_strict_string(row["name"]), row
                description = row.get("description")
                assert description is None or is_strict_string(description), row
                bool(row.get("defaultInventory"))
                by_type[row["inventoryType"]] = row["inventoryUuid"]
            self._inventories = by_type
        return self._inventories

    async def product_inventory(self, product: str) -> httpx.Response:
        store = (await self.inventories())["STORE"]
        return await self.request("GET", f"/v3/stock/{store}/products/{product}")

    async def balances(self, product: str) -> dict[str, int]:
        """variantUuid → `(int)` balance of the STORE rows (a missing variant is 0 to the caller)."""
        response = await self.product_inventory(product)
        assert self.ok(response), response.text
        found: dict[str, int] = {}
        for row in decoded_array(response):
            for name in ("inventoryUuid", "productUuid", "variantUuid"):
                assert is_strict_string(row[name]), (name, row)
            assert row["productUuid"] == product
            found[row["variantUuid"]] = php_int(row["balance"])
        return found

    async def tracking(self, product: str, state: str) -> httpx.Response:
        return await self.request("POST", "/v3/products", [{"productUuid": product, "tracking": state}])

    async def perform(self, product: str, variant: str, src: str, dst: str, change: int) -> httpx.Response:
        movement = {"productUuid": product, "variantUuid": variant, "from": src, "to": dst, "change": change}
        return await self.request(
            "POST", "/v3/movements", {"movements": [movement], "identifier": INTEGRATION_ID}
        )

    async def sync(self, product: str, variant: str, woo_stock: int) -> list[httpx.Response]:
        """`SyncStockJob` for one variant: read STORE, move the difference in calls of at most 99,999
        (admin raise: SUPPLIER → STORE; admin lower: STORE → BIN)."""
        locations = await self.inventories()
        zettle = (await self.balances(product)).get(variant, 0)
        answers = []
        difference = woo_stock - zettle
        while difference:
            step = min(abs(difference), MAX_CHANGE)
            if difference > 0:
                answers.append(
                    await self.perform(product, variant, locations["SUPPLIER"], locations["STORE"], step)
                )
                difference -= step
            else:
                answers.append(
                    await self.perform(product, variant, locations["STORE"], locations["BIN"], step)
                )
                difference += step
        return answers


def assert_written(response: httpx.Response) -> None:
    """204, no body, no Link (the SDK decodes the empty body as [])."""
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "link" not in response.headers


async def test_inventories_are_typed_and_name_the_old_locations(api: Api) -> None:
    client = Inpsyde(api)
    locations = await client.inventories()
    assert set(locations) == set(INVENTORY_TYPES)
    old = {loc["type"]: loc["uuid"] for loc in await old_locations(api)}
    assert locations == old
    assert client.sent == [("GET", "/v3/inventories", 200)]


async def test_the_last_store_listed_is_the_default_store(api: Api) -> None:
    """With a second store the SDK keeps the last STORE element: it must be the default store,
    where point-of-sale sales are drawn from."""
    created = await api.post("/v3/inventories", json={"name": "Shop 2", "description": "Second shop"})
    assert created.status_code == 201, created.text
    client = Inpsyde(api)
    chosen = (await client.inventories())["STORE"]
    default = next(
        loc["uuid"] for loc in await old_locations(api) if loc["type"] == "STORE" and loc["default"]
    )
    assert chosen == default != created.json()["inventoryUuid"]


async def test_the_sync_job_enables_tracking_after_product_not_tracked_then_moves_stock(api: Api) -> None:
    client = Inpsyde(api)
    product, variant = new_uuid(), new_uuid()
    locations = await client.inventories()

    # First sync of an untracked product: the stock read fails with PRODUCT_NOT_TRACKED, replayed once.
    refused = await client.product_inventory(product)
    assert refused.status_code == 400 and error_type(refused) == "PRODUCT_NOT_TRACKED"
    assert [status for _m, path, status in client.sent if "/v3/stock/" in path] == [400, 400]
    # The self-healing path: enable tracking (any 2xx/3xx is success), the job is retried later.
    assert client.ok(await client.tracking(product, "enable"))
    assert await client.balances(product) == {}  # tracked, never moved: the variant counts as 0

    # Admin raised the WooCommerce stock to 12: SUPPLIER → STORE 12.
    [raised] = await client.sync(product, variant, 12)
    assert_written(raised)
    assert await client.balances(product) == {variant: 12}
    # Shop sale of 3 (STORE → SOLD), refund of 1 (SOLD → STORE), admin lowers by 2 (STORE → BIN).
    for src, dst, change in (("STORE", "SOLD", 3), ("SOLD", "STORE", 1), ("STORE", "BIN", 2)):
        assert_written(await client.perform(product, variant, locations[src], locations[dst], change))
    assert await client.balances(product) == {variant: 8}
    assert await old_balance(api, locations["STORE"], product, variant) == "8"
    assert await old_balance(api, locations["SOLD"], product, variant) == "2"
    assert await old_balance(api, locations["BIN"], product, variant) == "2"


async def test_a_refused_stock_read_and_its_replay_change_nothing(api: Api) -> None:
    client = Inpsyde(api)
    product = new_uuid()
    await client.inventories()
    for _ in range(2):
        assert error_type(await client.product_inventory(product)) == "PRODUCT_NOT_TRACKED"
    status = await api.post("/v3/products/status", json=[product])
    assert status.status_code == 200, status.text
    assert status.json() == [{"productUuid": product, "enabled": False}]
    assert await ledger_size(api) == 0


async def test_a_refused_movement_is_replayed_and_applies_nothing(api: Api) -> None:
    """The SDK's own harness sends inventories "a" and "b"; an untracked product is refused too.
    Each refusal is sent twice (new token, same request) and neither attempt moves anything."""
    client = Inpsyde(api)
    locations = await client.inventories()
    product, variant, untracked = new_uuid(), new_uuid(), new_uuid()
    assert client.ok(await client.tracking(product, "enable"))
    assert_written(await client.perform(product, variant, locations["SUPPLIER"], locations["STORE"], 5))
    before = await ledger_size(api)

    dummy = await client.perform(product, variant, "a", "b", 1)
    assert dummy.status_code == 400 and error_type(dummy) == "VALIDATION_ERROR"
    body = dummy.json()  # ZettleRestException reads these three
    assert isinstance(body["developerMessage"], str) and isinstance(body["violations"], list)
    assert {v["propertyName"] for v in body["violations"]} >= {"movements[0].from", "movements[0].to"}
    not_tracked = await client.perform(untracked, new_uuid(), locations["SUPPLIER"], locations["STORE"], 1)
    assert not_tracked.status_code == 400 and error_type(not_tracked) == "PRODUCT_NOT_TRACKED"
    replays = [s for m, p, s in client.sent if p == "/v3/movements" and s == 400]
    assert replays == [400, 400, 400, 400]  # each refusal was sent twice
    assert await ledger_size(api) == before
    assert await client.balances(product) == {variant: 5}


async def test_a_movement_sent_with_an_expired_token_is_applied_once_by_its_replay(api: Api) -> None:
    """The cached token expired: 401, a new token, the same request again — one movement in all."""
    client = Inpsyde(api)
    locations = await client.inventories()
    product, variant = new_uuid(), new_uuid()
    assert client.ok(await client.tracking(product, "enable"))
    client.stale_token = api.token(now_s=int(time.time()) - 3 * ACCESS_TOKEN_TTL_S)
    assert_written(await client.perform(product, variant, locations["SUPPLIER"], locations["STORE"], 3))
    assert [s for _m, p, s in client.sent if p == "/v3/movements"] == [401, 204]
    assert await client.balances(product) == {variant: 3}
    assert await ledger_size(api) == 1


async def test_the_same_identifier_on_every_call_is_never_deduplicated(api: Api) -> None:
    client = Inpsyde(api)
    locations = await client.inventories()
    product, variant = new_uuid(), new_uuid()
    assert client.ok(await client.tracking(product, "enable"))
    for _ in range(3):
        assert_written(await client.perform(product, variant, locations["SUPPLIER"], locations["STORE"], 2))
    assert await client.balances(product) == {variant: 6}


async def test_large_differences_go_as_several_capped_calls(api: Api) -> None:
    client = Inpsyde(api)
    product, variant = new_uuid(), new_uuid()
    assert client.ok(await client.tracking(product, "enable"))
    answers = await client.sync(product, variant, 150_000)
    assert len(answers) == 2
    for answer in answers:
        assert_written(answer)
    assert await client.balances(product) == {variant: 150_000}
    lowered = await client.sync(product, variant, 1)  # admin lowers: STORE → BIN, 99,999 then 50,000
    assert [a.status_code for a in lowered] == [204, 204]
    assert await client.balances(product) == {variant: 1}


async def test_disabling_tracking_answers_success_and_the_read_says_not_tracked(api: Api) -> None:
    client = Inpsyde(api)
    product, variant = new_uuid(), new_uuid()
    assert client.ok(await client.tracking(product, "enable"))
    await client.sync(product, variant, 4)
    assert client.ok(await client.tracking(product, "disable"))
    assert error_type(await client.product_inventory(product)) == "PRODUCT_NOT_TRACKED"
    assert client.ok(await client.tracking(product, "enable"))
    assert await client.balances(product) == {variant: 4}  # balances were kept


async def test_webhooks_carry_the_integration_id_and_store_entries_only(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    client = Inpsyde(api)
    locations = await client.inventories()
    product, variant = new_uuid(), new_uuid()
    async with subscribed(api, hooks) as receiver:
        assert client.ok(await client.tracking(product, "enable"))
        assert client.ok(await client.tracking(product, "enable"))  # already tracked: no second event
        assert_written(await client.perform(product, variant, locations["SUPPLIER"], locations["STORE"], 9))
        after_restock = await client.balances(product)
        assert_written(await client.perform(product, variant, locations["STORE"], locations["SOLD"], 4))
        after_sale = await client.balances(product)
        # A change made elsewhere (the old API, another identifier): the plugin must apply this one.
        other = await api.move(product, variant, locations["STORE"], locations["BIN"], 1, externalUuid="till")
        assert other.status_code == 200, other.text
        after_other = await client.balances(product)
        assert client.ok(await client.tracking(product, "disable"))
        envelopes = await delivered(hooks, receiver)

    for envelope in envelopes:
        assert isinstance(envelope["eventName"], str) and envelope["organizationUuid"] == api.org
        assert isinstance(envelope["messageId"], str) and isinstance(envelope["payload"], str)
    started = events_named(envelopes, "InventoryTrackingStarted")
    stopped = events_named(envelopes, "InventoryTrackingStopped")
    assert [e["productUuid"] for e in started + stopped] == [product, product]
    changes = events_named(envelopes, "InventoryBalanceChanged")
    assert [c["externalUuid"] for c in changes] == [INTEGRATION_ID, INTEGRATION_ID, "till"]
    read_back = [after_restock, after_sale, after_other]
    applied: dict[
        str, int
    ] = {}  # what the handler applies to WooCommerce: after − before, own changes skipped
    for change, balances in zip(changes, read_back, strict=True):
        before = {e["variantUuid"]: php_int(e["balance"]) for e in change["balanceBefore"]}
        after = {e["variantUuid"]: php_int(e["balance"]) for e in change["balanceAfter"]}
        entries = change["balanceBefore"] + change["balanceAfter"]
        assert {e["locationUuid"] for e in entries} == {locations["STORE"]}, entries
        assert len(change["balanceAfter"]) == len(after)  # one entry per variant: nothing overwritten
        # The read right after the event equals its balanceAfter: the sync job finds nothing to correct.
        assert after == balances
        if change["externalUuid"] != INTEGRATION_ID:
            for key in after:
                applied[key] = applied.get(key, 0) + after[key] - before.get(key, 0)
    assert applied == {variant: -1}


async def test_gets_need_no_accept_header_and_tolerate_a_json_content_type(api: Api) -> None:
    locations = await Inpsyde(api).inventories()
    for path in ("/v3/inventories", f"/v3/inventories/{locations['STORE']}", "/v3/stock"):
        response = await send(
            api, "GET", path, headers={"Content-Type": "application/json"}, body=b"", without=("Accept",)
        )
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
