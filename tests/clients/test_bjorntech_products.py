"""BjornTech's WooCommerce Zettle integration [B]: set-up (taxes, categories), images, products from
the shop to Zettle and back through its webhooks, with its own changes recognised by etag
(integration-client-calls.md §3; the client is tests/clients/bjorntech.py)."""

from __future__ import annotations

import json

from tests.clients.bjorntech import MAX_NAME_CHARS, Plugin, ZettleError
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import Hooks, hooks, verify_like_a_foreign_receiver  # noqa: F401
from tests.webhook_receiver import running_receiver


async def test_setup_finds_a_vat_organization_and_its_categories(api: Api) -> None:
    plugin = Plugin(api)
    await plugin.detect_taxes()
    assert plugin.vat_mode is True
    with_error = await api.get("/v1/taxes/")
    assert with_error.status_code == 403
    coffee = await plugin.ensure_category("Coffee")
    assert await plugin.ensure_category("Coffee") == coffee  # found by name the second time
    listed, _ = await plugin.call("GET", f"organizations/{api.org}/categories/v2")
    assert listed == {"categories": [{"uuid": coffee, "name": "Coffee"}]}


async def test_an_image_format_it_cannot_name_falls_back_to_base64_png(api: Api) -> None:
    plugin = Plugin(api)
    image = await plugin.upload("https://shop.example/wp-content/uploads/beans.webp", "WEBP")
    assert image["imageLookupKey"].endswith(".png")
    by_url = await plugin.upload("https://shop.example/wp-content/uploads/beans.jpg", "JPEG")
    assert by_url["imageLookupKey"].endswith(".jpeg")


async def test_products_both_ways_with_its_own_changes_recognised_by_etag(
    api: Api,
    other_api: Api,
    hooks: Hooks,  # noqa: F811 - the fixture
) -> None:
    plugin = Plugin(api)
    await plugin.detect_taxes()
    category = await plugin.ensure_category("Coffee")
    till = Api(api.client, api.org)  # the merchant editing in Zettle: another user, no reference
    async with running_receiver() as receiver:
        sub = await hooks.subscribe(api, receiver, ["ProductCreated", "ProductUpdated", "ProductDeleted"])
        image = await plugin.upload("https://shop.example/beans.jpg", "JPEG")
        body = plugin.body(
            17, "Single origin beans from a small farm high in the mountains of Huila", category, image
        )
        assert await plugin.find_by_reference("ID:17") is None
        await plugin.create(body)
        product_uuid = await plugin.find_by_reference("ID:17")
        assert product_uuid == body["uuid"]
        current = await plugin.read(product_uuid)
        assert current is not None
        assert current["name"] == body["name"] and len(current["name"]) == MAX_NAME_CHARS
        assert [v["presentation"]["textColor"] for v in current["variants"]] == ["#000000"] * 2
        # The shop lowers the small bag's price: only that variant carries a price.
        await plugin.update(body, current, {"B17-Small": 14900})
        after = await plugin.read(product_uuid)
        assert after is not None
        assert [v["price"]["amount"] for v in after["variants"]] == [14900, 17900]
        assert [v["costPrice"]["amount"] for v in after["variants"]] == [7950, 8950]
        assert after["etag"] == plugin.etags[product_uuid]
        # The merchant, in Zettle: drops the large bag; and creates a simple product there.
        merchant = await till.put(
            f"/organizations/self/products/v2/{product_uuid}",
            json={"variants": [{"uuid": after["variants"][0]["uuid"]}]},
        )
        assert merchant.status_code == 200, merchant.text
        scoop = {"uuid": new_uuid(), "name": "Scoop", "variants": [{"uuid": new_uuid()}], "vatPercentage": 25}
        assert (await till.post("/organizations/self/products", json=scoop)).status_code == 201
        await plugin.delete(scoop["uuid"])
        await hooks.dispatcher.drain()
        received = receiver.events()

    outcomes = []
    for delivery in received:
        envelope = verify_like_a_foreign_receiver(
            delivery.body, delivery.headers["x-izettle-signature"], sub["signingKey"]
        )
        outcomes.append(await plugin.on_webhook(envelope["eventName"], json.loads(envelope["payload"])))
    assert outcomes == [
        "skipped: its own product",
        "skipped: its own change",
        "imported",  # the merchant's change: another etag
        "imported",  # the merchant's product: no external reference
        f"deleted {scoop['uuid']}",
    ]
    assert plugin.removed_variants == [after["variants"][1]["uuid"]]
    changed, created = plugin.imported
    assert changed == {
        "uuid": product_uuid,
        "name": body["name"],
        "simple": False,
        "category": "Coffee",
        "vat": "25.0",
        "taxRates": [],
    }
    assert created["uuid"] == scoop["uuid"] and created["simple"] is True and created["category"] is None
    assert other_api.org != api.org  # another organization's UUID in the path is refused
    try:
        await plugin.call("GET", f"organizations/{other_api.org}/products")
    except ZettleError as error:
        assert error.status == 403
    else:
        raise AssertionError("another organization's library was served")
