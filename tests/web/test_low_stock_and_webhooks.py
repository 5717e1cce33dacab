"""The low-stock page and the alert form on the variant page; the webhooks page and redelivery."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.accounts import Role
from stockledger.store import deliveries
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.tables import deliveries as deliveries_table
from tests.api.low_stock_support import configs, put
from tests.conftest import Api, new_uuid
from tests.web.conftest import Ui, add_person, csrf_of, issue_key, sign_in, sign_in_with_key
from tests.webhook_receiver import running_receiver


async def stock(ui: Ui, product: str, variant: str, quantity: Any) -> dict[str, str]:
    locs = await ui.api.locations()
    response = await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], quantity)
    assert response.status_code == 200, response.text
    return locs


async def test_the_low_stock_page_lists_alerted_variants_at_or_below_their_level(ui: Ui) -> None:
    product = new_uuid()
    low, at_level, above, no_alert = (new_uuid() for _ in range(4))
    await ui.api.track(product)
    body = {"name": "Oat <milk>", "variants": [{"uuid": low, "name": "Barista", "sku": "OAT-B"}]}
    await ui.api.put(f"/organizations/self/catalog/products/{product}", json=body)
    for variant, units in ((low, 1), (at_level, 3), (above, 4), (no_alert, 0)):
        locs = await stock(ui, product, variant, units) if units else await ui.api.locations()
    store = locs["STORE"]
    for variant in (low, at_level, above):
        await put(ui.api, store, product, variant, lowStockLevel=3, lowStockAlert=True)
    await put(ui.api, store, product, no_alert, lowStockLevel=3)
    page = await ui.client.get("/ui/low-stock")
    assert page.status_code == 200
    assert 'aria-current="page">Low stock' in page.text
    assert "Oat &lt;milk&gt;" in page.text and "OAT-B" in page.text
    shown = re.findall(r"/ui/variants/[0-9a-f-]{36}/([0-9a-f-]{36})\?", page.text)
    assert shown == [low, at_level]  # the furthest below its level first
    assert above not in page.text and no_alert not in page.text


async def test_the_alert_is_edited_on_the_variant_page_with_errors_next_to_the_field(ui: Ui) -> None:
    product, variant = new_uuid(), new_uuid()
    await ui.api.track(product)
    locs = await stock(ui, product, variant, 2)
    url = f"/ui/variants/{product}/{variant}"
    page = (await ui.client.get(url)).text
    assert 'id="level"' in page and 'name="alert" value="on">' in page  # not checked yet
    form = {"csrf_token": csrf_of(page), "location": locs["STORE"], "level": "abc", "alert": "on"}
    bad = await ui.client.post(f"{url}/low-stock", data=form)
    assert bad.status_code == 400
    assert 'id="level-error"' in bad.text and 'aria-invalid="true" aria-describedby="level-error"' in bad.text
    assert 'value="abc"' in bad.text
    negative = await ui.client.post(f"{url}/low-stock", data={**form, "level": "-1"})
    assert negative.status_code == 400 and "cannot be negative" in negative.text
    saved = await ui.client.post(f"{url}/low-stock", data={**form, "level": "2.5"})
    assert saved.status_code == 303 and "done=low-stock" in saved.headers["location"]
    stored = await configs(ui.api, locs["STORE"])
    assert stored == [
        {
            "productUuid": product,
            "customLowStockLevelForVariants": [
                {"variantUuid": variant, "customLowStockLevel": 2.5, "lowStockAlert": True}
            ],
        }
    ]
    again = (await ui.client.get(url)).text
    assert 'value="2.5"' in again and 'name="alert" value="on" checked' in again
    assert variant in (await ui.client.get("/ui/low-stock")).text
    forged = await ui.client.post(f"{url}/low-stock", data={**form, "level": "9", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert 'value="2.5"' in (await ui.client.get(url)).text


async def fan_out(db: Database) -> None:
    async def work(conn: AsyncConnection) -> None:
        await deliveries.fan_out(conn, now_ms(), 1000)

    await db.write(work)


async def test_the_webhooks_page_shows_subscriptions_deliveries_and_redelivers(ui: Ui, db: Database) -> None:
    async with running_receiver() as receiver:
        body = {
            "uuid": new_uuid(),
            "transportName": "WEBHOOK",
            "eventNames": ["InventoryTrackingStarted"],
            "destination": receiver.url,
            "contactEmail": "ops@example.com",
        }
        created = await ui.api.post("/organizations/self/subscriptions", json=body)
        assert created.status_code in (200, 201), created.text
    sub = body["uuid"]
    empty = (await ui.client.get("/ui/webhooks")).text
    assert "No deliveries yet." in empty and "ops@example.com" in empty
    assert "data-status>ACTIVE<" in empty
    await ui.api.track(new_uuid())
    await fan_out(db)

    async def mark_failed(conn: AsyncConnection) -> str:
        await conn.execute(
            deliveries_table.update()
            .where(deliveries_table.c.subscription_uuid == sub)
            .values(state=deliveries.FAILED, failures=3, attempts=3, last_status="500")
        )
        found = await conn.scalar(
            select(deliveries_table.c.message_uuid).where(deliveries_table.c.subscription_uuid == sub)
        )
        assert found is not None
        return str(found)

    message = await db.write(mark_failed)
    page = (await ui.client.get("/ui/webhooks")).text
    assert "InventoryTrackingStarted" in page and "data-state>FAILED<" in page and ">500<" in page
    assert f'name="message" value="{message}"' in page
    forged = await ui.client.post(
        f"/ui/webhooks/{sub}/redeliver", data={"message": message, "csrf_token": "x"}
    )
    assert forged.status_code == 403
    response = await ui.client.post(
        f"/ui/webhooks/{sub}/redeliver", data={"message": message, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    assert "queued for redelivery" in (await ui.client.get(response.headers["location"])).text

    async def state(conn: AsyncConnection) -> str:
        value = await conn.scalar(
            select(deliveries_table.c.state).where(deliveries_table.c.subscription_uuid == sub)
        )
        return str(value)

    assert await db.read(state) == deliveries.PENDING
    unknown = await ui.client.post(
        f"/ui/webhooks/{sub}/redeliver", data={"message": new_uuid(), "csrf_token": csrf_of(page)}
    )
    assert unknown.status_code == 404


async def test_the_new_pages_send_a_signed_out_visitor_to_sign_in(api: Api) -> None:
    for path in ("/ui/low-stock", "/ui/stocktake", "/ui/webhooks", f"/ui/stocktake/{new_uuid()}"):
        response = await api.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/signin?next=%2Fui%2F")


async def test_a_read_only_person_sees_low_stock_but_cannot_stocktake_set_alerts_or_see_webhooks(
    api: Api, db: Database
) -> None:
    person = await add_person(db, api.org, Role.READ_ONLY)
    assert (await sign_in(api.client, person.email)).status_code == 303
    assert (await api.client.get("/ui/low-stock")).status_code == 200
    assert (await api.client.get("/ui/webhooks")).status_code == 403  # the owner's
    assert (await api.client.get("/ui/stocktake")).status_code == 403
    token = csrf_of((await api.client.get("/ui/low-stock")).text)
    refused = await api.client.post(
        f"/ui/variants/{new_uuid()}/{new_uuid()}/low-stock", data={"csrf_token": token, "level": "1"}
    )
    assert refused.status_code == 403


async def test_a_read_only_api_key_session_sees_webhooks_as_before(
    key_client: Any, api: Api, db: Database
) -> None:
    """With STOCKLEDGER_UI_API_KEY_SIGNIN on, a key acts with its scopes, as before accounts."""
    _, key = await issue_key(db, api.org, api.sub, scopes="READ:PRODUCT")
    assert (await sign_in_with_key(key_client, key)).status_code == 303
    assert (await key_client.get("/ui/low-stock")).status_code == 200
    assert (await key_client.get("/ui/webhooks")).status_code == 200
    assert (await key_client.get("/ui/stocktake")).status_code == 403
