"""Adjusting stock without UUIDs: the variant is found by name, SKU or barcode (type-ahead fragment
or plain search form), a scanned code chooses its variant at once, and an untracked product is
tracked from the form itself."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.service import variant_search
from stockledger.store.db import Database
from stockledger.store.tables import movements
from tests.api.test_route_security import org_checksum
from tests.conftest import new_uuid
from tests.web.conftest import Ui, csrf_of

PRODUCTS = "/organizations/self/products"


async def add_product(ui: Ui, name: str, *variants: dict[str, Any]) -> tuple[str, list[str]]:
    body = {"uuid": new_uuid(), "name": name, "variants": [{"uuid": new_uuid(), **v} for v in variants]}
    response = await ui.api.post(PRODUCTS, json=body)
    assert response.status_code == 201, response.text
    return body["uuid"], [v["uuid"] for v in body["variants"]]


def choices(html: str) -> list[tuple[str, str]]:
    """(product, variant) of each match the picker lists, in order."""
    found = []
    for href in re.findall(r'<a class="choice-link" data-choice href="([^"]+)"', html):
        query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        found.append((query["product"][0], query["variant"][0]))
    return found


async def test_the_type_ahead_lists_variants_matching_a_name_sku_or_barcode(ui: Ui) -> None:
    oil, (small, large) = await add_product(
        ui,
        "Olive oil",
        {"name": "500 ml", "sku": "OIL-5", "barcode": "7310000000103"},
        {"name": "1 l", "sku": "OIL-10", "barcode": "7310000000110"},
    )
    tea, (green,) = await add_product(ui, "Tea <i>", {"name": "Green", "sku": "TEA-G"})
    await ui.api.track(oil)
    locs = await ui.api.locations()
    for text, expected in (
        ("olive", [(oil, small), (oil, large)]),  # the product's name: all its variants
        ("oil-10", [(oil, large)]),  # a SKU, any case
        ("00000001", [(oil, small), (oil, large)]),  # part of a barcode
        ("GREEN", [(tea, green)]),  # a variant's name
    ):
        response = await ui.client.get(
            "/ui/adjust/variants", params={"find": text, "location": locs["STORE"], "action": "sale"}
        )
        assert response.status_code == 200
        assert "<html" not in response.text  # a fragment for the list, not a page
        assert choices(response.text) == expected, text
    fragment = (await ui.client.get("/ui/adjust/variants", params={"find": "tea"})).text
    assert "Tea &lt;i&gt;" in fragment and "<i>" not in fragment
    assert "not tracked" in fragment
    link = re.search(
        r'data-choice href="([^"]+)"', (await ui.client.get("/ui/adjust/variants?find=oil-5")).text
    )
    assert link and "action=" not in link.group(1)
    empty = await ui.client.get("/ui/adjust/variants", params={"find": "no such thing"})
    assert "Nothing matches “no such thing”" in empty.text
    assert (await ui.client.get("/ui/adjust/variants", params={"find": "  "})).text.strip() == ""


async def test_the_list_is_short_and_says_when_more_match(ui: Ui) -> None:
    for i in range(variant_search.MAX_CHOICES + 2):
        await add_product(ui, f"Candle {i}", {"name": "Wax"})
    html = (await ui.client.get("/ui/adjust/variants", params={"find": "candle"})).text
    assert len(choices(html)) == variant_search.MAX_CHOICES
    assert "More products match" in html


async def test_without_javascript_the_search_form_lists_the_matches_on_the_page(ui: Ui) -> None:
    product, (variant,) = await add_product(ui, "Rice", {"name": "2 kg", "sku": "RICE-2"})
    page = await ui.client.get("/ui/adjust", params={"find": "ric"})
    assert page.status_code == 200
    assert 'id="find" name="find" type="search" value="ric"' in page.text
    assert choices(page.text) == [(product, variant)]


async def test_a_scanned_barcode_and_enter_choose_its_variant(ui: Ui) -> None:
    product, (_, large) = await add_product(
        ui,
        "Flour",
        {"name": "1 kg", "barcode": "7310000000127"},
        {"name": "5 kg", "barcode": "7310000000134"},
    )
    await ui.api.track(product)
    locs = await ui.api.locations()
    # A scanner types the code, then Enter submits the search form.
    response = await ui.client.get(
        "/ui/adjust", params={"find": "7310000000134", "location": locs["STORE"], "action": "sale"}
    )
    assert response.status_code == 303
    target = response.headers["location"]
    assert parse_qs(urlsplit(target).query) == {
        "product": [product],
        "variant": [large],
        "location": [locs["STORE"]],
        "action": ["sale"],
    }
    page = (await ui.client.get(target)).text
    assert "<strong>Flour</strong> · 5 kg" in page and "Barcode 7310000000134" in page
    assert f'name="variant" value="{large}"' in page and 'value="sale" checked' in page
    assert "data-current-balance>0<" in page
    # A typed SKU is as good as a scan; a code shared by two variants lists both instead.
    await add_product(ui, "Flour (old label)", {"name": "5 kg", "sku": "FL-5", "barcode": "7310000000134"})
    shared = await ui.client.get("/ui/adjust", params={"find": "7310000000134"})
    assert shared.status_code == 200 and "2 variants carry the code" in shared.text
    assert len(choices(shared.text)) == 2
    by_sku = await ui.client.get("/ui/adjust", params={"find": "FL-5"})
    assert by_sku.status_code == 303


async def test_adjusting_a_picked_variant_records_the_movement_for_it(ui: Ui, db: Database) -> None:
    product, (small, medium) = await add_product(
        ui, "T-shirt", {"name": "Small", "sku": "TEE-S"}, {"name": "Medium", "sku": "TEE-M"}
    )
    await ui.api.track(product)
    locs = await ui.api.locations()
    listed = (
        await ui.client.get("/ui/adjust/variants", params={"find": "tee-m", "location": locs["STORE"]})
    ).text
    (href,) = re.findall(r'data-choice href="([^"]+)"', listed)
    form = await ui.client.get(href.replace("&amp;", "&"))
    assert "<strong>T-shirt</strong> · Medium" in form.text
    fields = dict(re.findall(r'<input type="hidden" name="(product|variant)" value="([^"]*)"', form.text))
    assert fields == {"product": product, "variant": medium}
    data = {
        "csrf_token": csrf_of(form.text),
        "location": locs["STORE"],
        "action": "receive",
        "quantity": "6",
        **fields,
    }
    response = await ui.client.post("/ui/adjust", data=data)
    assert response.status_code == 303, response.text

    async def ledger(conn: AsyncConnection) -> list[tuple[str, str, int]]:
        rows = await conn.execute(
            select(movements.c.product_uuid, movements.c.variant_uuid, movements.c.units).where(
                movements.c.org_uuid == ui.api.org
            )
        )
        return [(r[0], r[1], r[2]) for r in rows.all()]

    assert await db.read(ledger) == [(product, medium, 6000)]
    assert small not in response.headers["location"]


async def test_an_untracked_product_is_tracked_from_the_form_and_comes_back_chosen(
    ui: Ui, db: Database
) -> None:
    product, (variant,) = await add_product(ui, "Honey", {"name": "Jar", "barcode": "7310000000141"})
    locs = await ui.api.locations()
    chosen = await ui.client.get("/ui/adjust", params={"find": "7310000000141", "action": "discard"})
    page = await ui.client.get(chosen.headers["location"])
    assert "Stock of this product is not tracked yet" in page.text
    assert 'action="/ui/adjust/track"' in page.text and "through the API first" not in page.text
    # Recording anyway is refused on the product, with the way out beside it; nothing is written.
    before = await org_checksum(db, ui.api.org)
    refused = await ui.client.post(
        "/ui/adjust",
        data={
            "csrf_token": csrf_of(page.text),
            "location": locs["STORE"],
            "product": product,
            "variant": variant,
            "action": "receive",
            "quantity": "2",
        },
    )
    assert refused.status_code == 400
    assert "Stock of this product is not tracked yet: start tracking it here first." in refused.text
    assert 'id="product-error"' in refused.text and "Start tracking</button>" in refused.text
    assert await org_checksum(db, ui.api.org) == before
    # Start tracking: back on the form, same variant, store and action.
    started = await ui.client.post(
        "/ui/adjust/track",
        data={
            "csrf_token": csrf_of(page.text),
            "product": product,
            "variant": variant,
            "location": locs["STORE"],
            "action": "discard",
        },
    )
    assert started.status_code == 303
    target = started.headers["location"]
    assert parse_qs(urlsplit(target).query) == {
        "product": [product],
        "variant": [variant],
        "location": [locs["STORE"]],
        "action": ["discard"],
        "done": ["tracking"],
    }
    assert product in (await ui.api.get("/inventory")).json()["trackedProducts"]
    form = (await ui.client.get(target)).text
    assert "Stock of this product is tracked now" in form and "not tracked yet" not in form
    assert "<strong>Honey</strong> · Jar" in form and 'value="discard" checked' in form


async def test_starting_tracking_from_the_form_needs_the_csrf_token(ui: Ui, db: Database) -> None:
    product, (variant,) = await add_product(ui, "Salt", {"name": "Box"})
    await ui.client.get("/ui/adjust")
    before = await org_checksum(db, ui.api.org)
    for token in ({}, {"csrf_token": "guessed"}):
        response = await ui.client.post(
            "/ui/adjust/track", data={"product": product, "variant": variant, **token}
        )
        assert response.status_code == 403
    assert await org_checksum(db, ui.api.org) == before
