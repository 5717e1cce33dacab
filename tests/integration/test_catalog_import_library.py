"""`stockledger catalog import` writes Product Library products, through the library's service (with
its events), and refuses the rows the library cannot take."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from stockledger.domain.catalog import CatalogVariant
from stockledger.service import catalog, products
from stockledger.service.catalog import ImportRow
from stockledger.service.context import Actor
from stockledger.store.db import Database
from tests.api.product_helpers import product_events
from tests.integration.test_catalog_names import invoke_cli


def new() -> str:
    return str(uuid.uuid4())


async def test_import_creates_and_merges_library_products_with_their_events(db: Database) -> None:
    org, product, first, second = new(), new(), new(), new()
    actor = Actor(org, new())
    await products.create_product(
        db,
        actor,
        {
            "uuid": product,
            "name": "Candle",
            "variants": [{"uuid": first, "price": {"amount": 900, "currencyId": "SEK"}}],
        },
    )
    fresh = new()
    refused = await catalog.import_rows(
        db,
        org,
        [
            ImportRow(product, None, CatalogVariant(first, "Vanilla", "CAN-V", None)),
            ImportRow(product, "Scented candle", CatalogVariant(second, "Rose", None, None)),
            ImportRow(fresh, "Matches", None),
        ],
    )
    assert refused == []
    stored = await products.get_product(db, actor, product)
    assert stored.name == "Scented candle"
    assert [(v.uuid, v.name, v.sku) for v in stored.variants] == [
        (first, "Vanilla", "CAN-V"),
        (second, "Rose", None),
    ]
    assert stored.variants[0].price is not None and stored.variants[0].price.amount == 900  # kept
    assert (await products.get_product(db, actor, fresh)).name == "Matches"
    names = [name for name, _ in await product_events(db, org)]
    assert names == ["ProductCreated", "ProductUpdated", "ProductCreated"]
    # the same rows again change nothing
    again = await catalog.import_rows(db, org, [ImportRow(fresh, "Matches", None)])
    assert again == [] and len(await product_events(db, org)) == 3


async def test_import_refuses_a_variant_of_another_product_and_the_hundredth_variant(db: Database) -> None:
    org, owner, other = new(), new(), new()
    actor = Actor(org, new())
    taken = new()
    await products.create_product(db, actor, {"uuid": owner, "name": "Owner", "variants": [{"uuid": taken}]})
    rows = [ImportRow(other, "Other", CatalogVariant(new(), f"V{i}")) for i in range(100)]
    stolen = ImportRow(other, None, CatalogVariant(taken, "Stolen"))
    refused = await catalog.import_rows(db, org, [*rows, stolen])
    assert [(row, reason) for row, reason in refused] == [
        (rows[99], "the product has 99 variants already"),
        (stolen, "variantUuid belongs to another product"),
    ]
    assert len((await products.get_product(db, actor, other)).variants) == 99
    assert (await products.get_product(db, actor, owner)).variants[0].name is None


@pytest.fixture
def sqlite_cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STOCKLEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STOCKLEDGER_DATABASE_URL", raising=False)
    return tmp_path


def test_the_cli_reports_rows_the_library_refuses_with_their_line(sqlite_cli_env: Path) -> None:
    org, product, variant = new(), new(), new()
    csv_file = sqlite_cli_env / "names.csv"
    csv_file.write_text(
        "productUuid,productName,variantUuid,variantName,sku,barcode\n"
        f"{product},Candle,{variant},Vanilla,CAN-V,\n"
        f"{new()},Thief,{variant},Stolen,,\n"
        f"{product},Candle,{new()},Long,{'S' * 65},\n"
    )
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", org])
    assert result.exit_code == 1, result.output  # one bad row: nothing imported
    assert "line 3: variantUuid belongs to another product (line 2)" in result.output
    assert "line 4: sku is longer than 64 characters" in result.output
    assert "2 bad rows; nothing was imported" in result.output
