"""The Product Library's service as the back office calls it: pages, search, typed changes."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from stockledger.domain.errors import ServiceError
from stockledger.domain.products import Product
from stockledger.service import products
from stockledger.service.context import Actor
from stockledger.store.db import Database
from tests.api.product_helpers import product_events


def new() -> str:
    return str(uuid.uuid4())


async def seed(db: Database, actor: Actor) -> list[str]:
    made = []
    for name, sku, barcode in [
        ("Blue mug", "MUG-B", "7311"),
        ("Red 100%_cup", "CUP-R", None),
        ("Tea", None, "5012345"),
        ("Plate", "PL_1", None),
    ]:
        body = {
            "uuid": new(),
            "name": name,
            "variants": [{"uuid": new(), "name": "One", "sku": sku, "barcode": barcode}],
        }
        made.append((await products.create_product(db, actor, body)).uuid)
    return made


async def test_pages_list_the_whole_library_once_in_order(db: Database) -> None:
    actor = Actor(new(), new())
    made = set(await seed(db, actor))
    seen: list[str] = []
    cursor = None
    while True:
        page = await products.list_products(db, actor, limit=3, cursor=cursor)
        seen += [p.uuid for p in page.products]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 4
    assert len((await products.list_products(db, actor, limit=4)).products) == 4
    assert (await products.list_products(db, actor, limit=4)).next_cursor is None


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("mug", ["Blue mug"]),
        ("cup-r", ["Red 100%_cup"]),
        ("0%_", ["Red 100%_cup"]),
        ("%", ["Red 100%_cup"]),
        ("_", ["Red 100%_cup", "Plate"]),
        ("50123", ["Tea"]),
        ("ONE", ["Blue mug", "Red 100%_cup", "Tea", "Plate"]),
        ("nothing", []),
    ],
)
async def test_search_finds_names_skus_barcodes_any_case_and_takes_wildcards_literally(
    db: Database, search: str, names: list[str]
) -> None:
    actor = Actor(new(), new())
    await seed(db, actor)
    found = await products.list_products(db, actor, search=search, limit=50)
    assert sorted(p.name or "" for p in found.products) == sorted(names)


async def test_search_finds_a_product_by_its_uuid_or_a_variants(db: Database) -> None:
    actor = Actor(new(), new())
    made = await seed(db, actor)
    product = await products.get_product(db, actor, made[2])
    assert [p.uuid for p in (await products.list_products(db, actor, search=made[2])).products] == [made[2]]
    by_variant = await products.list_products(db, actor, search=product.variants[0].uuid.upper())
    assert [p.uuid for p in by_variant.products] == [made[2]]


@pytest.mark.parametrize(("limit", "cursor"), [(0, None), (501, None), (10, "x"), (10, "12.")])
async def test_bad_page_requests_are_refused(db: Database, limit: int, cursor: str | None) -> None:
    with pytest.raises(ServiceError) as caught:
        await products.list_products(db, Actor(new(), new()), limit=limit, cursor=cursor)
    assert caught.value.status == 400


async def test_a_typed_change_is_saved_with_its_event_and_checked_like_any_write(db: Database) -> None:
    actor = Actor(new(), new())
    made = await seed(db, actor)
    other = await products.get_product(db, actor, made[1])

    def renamed(found: Product | None) -> Product:
        assert found is not None
        return replace(found, name="Green mug")

    def stealing(found: Product | None) -> Product:
        assert found is not None
        return replace(found, variants=other.variants)

    saved = await products.change_product(db, actor, made[0], renamed)
    assert saved.name == "Green mug" and (await products.get_product(db, actor, made[0])).etag == saved.etag
    assert [name for name, _ in await product_events(db, actor.org)][-1] == "ProductUpdated"
    with pytest.raises(ServiceError) as caught:
        await products.change_product(db, actor, made[0], stealing)
    assert caught.value.violations[0].property_name == "variants[0].uuid"
