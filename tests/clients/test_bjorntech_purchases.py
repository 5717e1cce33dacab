"""BjornTech's WooCommerce Zettle integration [B]: purchases turned into orders, polled by start date
then by the stored `lastPurchaseHash`, and read one by one by UUID (also on `PurchaseCreated`)
(integration-client-calls.md §3; the client is tests/clients/bjorntech.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from tests.clients.bjorntech import Plugin
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks  # noqa: F401 - the fixture
from tests.webhook_receiver import running_receiver


async def test_purchases_become_orders_by_date_then_by_cursor(
    api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    plugin = Plugin(api)
    product, small, large = new_uuid(), new_uuid(), new_uuid()
    library = {
        "uuid": product,
        "name": "Beans",
        "vatPercentage": 25,
        "variants": [
            {
                "uuid": small,
                "name": "Small",
                "sku": "B17-Small",
                "price": {"amount": 14900, "currencyId": "SEK"},
            },
            {
                "uuid": large,
                "name": "Large",
                "sku": "B17-Large",
                "price": {"amount": 17900, "currencyId": "SEK"},
            },
        ],
    }
    assert (await api.post("/organizations/self/products", json=library)).status_code == 201
    await api.track(product)
    # Its first poll starts from when it was connected, in the site's time zone (PHP date('c')).
    connected = datetime.now(timezone(timedelta(hours=1))) - timedelta(minutes=5)

    def sale(number: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "purchaseUuid": new_uuid(),
            "purchaseNumber": number,
            "amount": sum(int(line["quantity"]) * line["unitPrice"] for line in lines),
            "vatAmount": 0,
            "currency": "SEK",
            "payments": [{"uuid": new_uuid(), "amount": 1, "type": "IZETTLE_CARD"}],
            "products": lines,
        }

    first = sale(
        1,
        [
            {"productUuid": product, "variantUuid": small, "name": "Beans", "variantName": "Small",
             "sku": "B17-Small", "quantity": "2", "unitPrice": 14900, "vatPercentage": 25},
            {"name": "Custom amount", "quantity": "1", "unitPrice": 500},
        ],
    )  # fmt: skip
    second = sale(
        2,
        [{"productUuid": product, "variantUuid": large, "name": "Beans", "variantName": "Large",
          "sku": "B17-Large", "quantity": "1", "unitPrice": 17900, "vatPercentage": 25}],
    )  # fmt: skip
    async with running_receiver() as receiver:
        await hooks.subscribe(api, receiver, ["PurchaseCreated"])
        assert (await api.post("/organizations/self/purchases", json=first)).status_code == 200
        assert await plugin.poll_purchases(since=connected) == [first["purchaseUuid"]]
        order = await plugin.order_from(first["purchaseUuid"])
        assert order == {
            "number": 1,
            "payment": "IZETTLE_CARD",
            "total": 30300,
            "lines": [("B17-Small", "2", 29800)],  # the custom amount is no order line
        }
        # Nothing new: an empty page, and the cursor stays.
        cursor = plugin.purchase_cursor
        assert await plugin.poll_purchases() == [] and plugin.purchase_cursor == cursor
        assert (await api.post("/organizations/self/purchases", json=second)).status_code == 200
        assert await plugin.poll_purchases() == [second["purchaseUuid"]]
        assert plugin.purchase_cursor != cursor
        await hooks.dispatcher.drain()
        deliveries = receiver.events()

    # The webhook path: PurchaseCreated names the purchase, the plugin reads it by UUID.
    for delivery in deliveries:
        envelope = delivery.json()
        assert (
            await plugin.on_webhook(str(envelope["eventName"]), json.loads(str(envelope["payload"])))
            == "order"
        )
    assert [o["number"] for o in plugin.orders] == [1, 1, 2]
    assert plugin.orders[2]["lines"] == [("B17-Large", "1", 17900)]
    utc_start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    page, _ = await plugin.call("GET", "purchases/v2", query="startDate=" + quote(utc_start, safe=""))
    assert [p["purchaseNumber"] for p in page["purchases"]] == [1, 2]
