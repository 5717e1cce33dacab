"""ZettleInventoryTracker [T]: a webhook consumer of `InventoryBalanceChanged` that explains each change
from the Purchase API and the Product Library, validating every answer with pydantic 2 models
(integration-client-calls.md §6).

For a change it asks `GET /purchases/v2` for a window around the change (`startDate` and `endDate`
from Python's `isoformat()`: no offset, microseconds; `descending=false`; no limit, no paging); a
change no sale explains is a manual change, and for its report it reads the product at
`/organizations/<org UUID>/products/<uuid>` (name, category, variant name, price and cost price).
Its models require keys that may be null (`name`, `category`, a variant's `price`, `costPrice`) and
refuse a null `variantName` or a non-integer `quantity`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from tests.clients.test_python_consumer_events import InventoryBalanceChanged
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import running_receiver

WINDOW = timedelta(minutes=2)


class PurchaseLine(BaseModel):
    quantity: int  # "2" passes, "1.5" would not
    productUuid: UUID
    variantUuid: UUID
    unitPrice: int
    name: str
    variantName: str


class Purchase(BaseModel):
    amount: int
    timestamp: datetime
    refunded: bool
    refund: bool
    products: list[PurchaseLine]


class Purchases(BaseModel):
    purchases: list[Purchase]


class Money(BaseModel):
    amount: int


class Category(BaseModel):
    uuid: UUID
    name: str


class Variant(BaseModel):
    uuid: UUID
    name: str | None  # required key, may be null
    price: Money | None
    costPrice: Money | None


class LibraryProduct(BaseModel):
    uuid: UUID
    categories: list[str | None]
    name: str | None
    category: Category | None
    variants: list[Variant]


class Tracker:
    def __init__(self, api: Api, store: str) -> None:
        self.api = api
        self.store = store

    async def sold_in_window(self, at: datetime, variant: UUID) -> int:
        params = {
            "startDate": (at - WINDOW).isoformat(),
            "endDate": (at + WINDOW).isoformat(),
            "descending": "false",
        }
        response = await self.api.get("/purchases/v2", params=params)
        assert response.status_code == 200, response.text
        page = Purchases.model_validate(response.json())
        return sum(
            line.quantity if not purchase.refund else -abs(line.quantity)
            for purchase in page.purchases
            for line in purchase.products
            if line.variantUuid == variant
        )

    async def report(self, event: InventoryBalanceChanged) -> dict[str, object]:
        at = datetime.strptime(event.updated.timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").replace(tzinfo=None)
        [before] = [b for b in event.balanceBefore if str(b.locationUuid) == self.store]
        [after] = [b for b in event.balanceAfter if str(b.locationUuid) == self.store]
        sold = await self.sold_in_window(at, after.variantUuid)
        if before.balance - after.balance == sold:
            return {"kind": "sale", "quantity": sold}
        response = await self.api.get(f"/organizations/{self.api.org}/products/{after.productUuid}")
        assert response.status_code == 200, response.text
        product = LibraryProduct.model_validate(response.json())
        [variant] = [v for v in product.variants if v.uuid == after.variantUuid]
        return {
            "kind": "manual",
            "change": after.balance - before.balance,
            "product": product.name,
            "category": product.category.name if product.category else None,
            "variant": variant.name,
            "price": variant.price.amount if variant.price else None,
            "costPrice": variant.costPrice.amount if variant.costPrice else None,
        }


async def test_changes_are_explained_by_sales_or_reported_with_the_product(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    product, named, unnamed = new_uuid(), new_uuid(), new_uuid()
    body = {
        "uuid": product,
        "name": "Espresso cup",
        "category": {"uuid": new_uuid(), "name": "Tableware"},
        "variants": [
            {
                "uuid": named,
                "name": "White",
                "price": {"amount": 12900, "currencyId": "SEK"},
                "costPrice": {"amount": 5100, "currencyId": "SEK"},
            },
            {"uuid": unnamed, "price": {"amount": 12900, "currencyId": "SEK"}},  # no name, no cost
        ],
    }
    assert (await api.post("/organizations/self/products", json=body)).status_code == 201
    await api.track(product)
    locations = await api.locations()
    tracker = Tracker(api, locations["STORE"])
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["InventoryBalanceChanged"])
        for variant in (named, unnamed):
            restock = await api.move(product, variant, locations["SUPPLIER"], locations["STORE"], 6)
            assert restock.status_code == 200, restock.text
        sale = {
            "purchaseUuid": new_uuid(),
            "amount": 25800,
            "products": [
                {"productUuid": product, "variantUuid": named, "name": "Espresso cup", "variantName": "White",
                 "quantity": "2", "unitPrice": 12900}
            ],
        }  # fmt: skip
        assert (await api.post("/organizations/self/purchases", json=sale)).status_code == 200
        await hooks.dispatcher.drain()
        received = receiver.events()

    reports = []
    for delivery in received:
        envelope = json.loads(delivery.body)
        assert envelope["eventName"] == "InventoryBalanceChanged"
        reports.append(await tracker.report(InventoryBalanceChanged.model_validate_json(envelope["payload"])))
    assert reports == [
        {
            "kind": "manual",
            "change": 6,
            "product": "Espresso cup",
            "category": "Tableware",
            "variant": "White",
            "price": 12900,
            "costPrice": 5100,
        },
        {
            "kind": "manual",
            "change": 6,
            "product": "Espresso cup",
            "category": "Tableware",
            "variant": None,
            "price": 12900,
            "costPrice": None,
        },
        {"kind": "sale", "quantity": 2},
    ]


async def test_a_sold_line_without_variant_name_still_validates(api: Api) -> None:
    """Lines recorded without `variantName` (a product with one variant) answer "" for it."""
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    sale = {
        "purchaseUuid": new_uuid(),
        "products": [{"productUuid": product, "variantUuid": variant, "quantity": 1}],
    }
    assert (await api.post("/organizations/self/purchases", json=sale)).status_code == 200
    now = datetime.now(UTC).replace(tzinfo=None)  # what the tracker uses: naive, UTC
    tracker = Tracker(api, (await api.locations())["STORE"])
    assert await tracker.sold_in_window(now, UUID(variant)) == 1
    # Its product lookup also validates a product the library learnt from that sale alone.
    response = await api.get(f"/organizations/{api.org}/products/{product}")
    assert response.status_code == 200, response.text
    learnt = LibraryProduct.model_validate(response.json())
    assert [v.uuid for v in learnt.variants] == [UUID(variant)]
