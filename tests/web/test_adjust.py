"""Adjusting stock in plain words: receive, sale, discard through the same use case as the API."""

from __future__ import annotations

import json
import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.db import Database
from stockledger.store.tables import movements, outbox
from tests.web.conftest import Ui


async def post_adjust(ui: Ui, **fields: str) -> tuple[int, str, str]:
    token = await ui.csrf("/ui/adjust")
    locs = await ui.api.locations()
    form = {"csrf_token": token, "location": locs["STORE"], "action": "receive", "quantity": "1", **fields}
    response = await ui.client.post("/ui/adjust", data=form)
    return response.status_code, response.text, response.headers.get("location", "")


async def store_balance(ui: Ui, variant: str) -> str | None:
    inventory = (await ui.api.get("/inventory")).json()
    return next((v["balance"] for v in inventory["variants"] if v["variantUuid"] == variant), None)


async def test_receive_sale_and_discard_move_stock_between_the_right_locations(
    ui: Ui, db: Database, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    await ui.api.track(product)
    locs = await ui.api.locations()
    status, _, target = await post_adjust(
        ui, product=product, variant=variant, action="receive", quantity="12"
    )
    assert status == 303
    assert target == f"/ui/variants/{product}/{variant}?location={locs['STORE']}&done=receive"
    assert "Stock received." in (await ui.client.get(target)).text
    await post_adjust(ui, product=product, variant=variant, action="sale", quantity="2.5", reference="till-7")
    await post_adjust(ui, product=product, variant=variant, action="discard", quantity="1")
    assert await store_balance(ui, variant) == "8.5"

    async def ledger(conn: AsyncConnection) -> list[tuple[str, str, int, str | None, str, str | None]]:
        rows = await conn.execute(
            select(
                movements.c.from_location_uuid,
                movements.c.to_location_uuid,
                movements.c.units,
                movements.c.external_uuid,
                movements.c.source,
                movements.c.actor,
            )
            .where(movements.c.org_uuid == ui.api.org)
            .order_by(movements.c.seq)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]

    person = f"PERSON:{ui.account.uuid}"  # the signed-in person, whose name the pages show
    assert await db.read(ledger) == [
        (locs["SUPPLIER"], locs["STORE"], 12000, None, "API", person),
        (locs["STORE"], locs["SOLD"], 2500, "till-7", "API", person),
        (locs["STORE"], locs["BIN"], 1000, None, "API", person),
    ]

    async def events(conn: AsyncConnection) -> list[str]:
        rows = await conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.org_uuid == ui.api.org, outbox.c.event_name == "InventoryBalanceChanged")
            .order_by(outbox.c.id)
        )
        return [r[0] for r in rows.all()]

    payloads = [json.loads(p) for p in await db.read(events)]
    assert len(payloads) == 3
    assert payloads[1]["externalUuid"] == "till-7"
    assert payloads[1]["updated"]["userType"] == "USER" and payloads[1]["updated"]["uuid"] == ui.account.uuid


async def test_bad_input_is_shown_next_to_each_field_and_changes_nothing(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    await ui.api.track(product)
    cases = [
        ({"quantity": "abc"}, "quantity", "must be a plain decimal number"),
        ({"quantity": "0"}, "quantity", "greater than 0"),
        ({"quantity": "1.0005"}, "quantity", "at most 3 fraction digits"),
        ({"product": "nope"}, "product", "Choose the product first"),
        ({"variant": ""}, "product", "Choose the product first"),
        ({"action": "steal"}, "action", "Choose what happened"),
        ({"location": str(uuid.uuid4())}, "location", "Choose a store"),
        ({"reference": "r" * 256}, "reference", "under 255"),
    ]
    for override, field, message in cases:
        fields = {"product": product, "variant": variant, **override}
        status, html, _ = await post_adjust(ui, **fields)
        assert status == 400, override
        assert f'id="{field}-error"' in html and message in html, (override, html)
        assert re.search(f'aria-describedby="[^"]*{field}-error"', html) or field == "action"
    assert await store_balance(ui, variant) is None


async def test_an_untracked_product_is_reported_on_the_product_field(ui: Ui) -> None:
    product, variant = str(uuid.uuid4()), str(uuid.uuid4())
    status, html, _ = await post_adjust(ui, product=product, variant=variant, quantity="3")
    assert status == 400
    assert 'id="product-error"' in html and "not tracked" in html
    assert f'value="{product}"' in html  # the form keeps what was typed


async def test_the_adjust_form_is_prefilled_from_the_variant_page(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    page = await ui.client.get(f"/ui/adjust?product={product}&variant={variant}&action=sale")
    assert page.status_code == 200
    assert f'value="{product}"' in page.text and f'value="{variant}"' in page.text
    assert 'value="sale" checked' in page.text
    assert '<label for="quantity">Quantity' in page.text
    body = {"name": "Desk <lamp>", "variants": [{"uuid": variant, "name": "Brass", "sku": "DL-B"}]}
    await ui.api.put(f"/organizations/self/catalog/products/{product}", json=body)
    named = await ui.client.get(f"/ui/adjust?product={product}&variant={variant}")
    assert "<strong>Desk &lt;lamp&gt;</strong> · Brass" in named.text


async def test_a_sale_beyond_the_stock_of_a_store_speaks_of_the_store(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    """With negative stock refused, the message names the store the owner chose, not a location UUID."""
    product, variant = product_variant
    await ui.api.track(product)
    response = await ui.api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    assert response.status_code == 200, response.text
    status, html, _ = await post_adjust(ui, product=product, variant=variant, action="sale", quantity="2")
    assert status == 400
    assert 'id="quantity-error"' in html and "Not enough stock in Main store:" in html, html
    assert "in location" not in html
    assert await store_balance(ui, variant) is None
