"""Names learnt from purchase documents and from the CSV import."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner, Result

from stockledger.cli import app as cli
from stockledger.domain.catalog import CatalogProduct
from stockledger.service import catalog
from stockledger.store import catalog as catalog_store
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade

FIXTURES = Path(__file__).parent.parent / "fixtures"
T = TypeVar("T")


def first_purchase() -> dict[str, object]:
    line = (FIXTURES / "purchase-documents.jsonl").read_text().splitlines()[0]
    document: dict[str, object] = json.loads(line)
    return document


async def stored(db: Database, org: str, product: str) -> CatalogProduct | None:
    async def work(conn: AsyncConnection) -> CatalogProduct | None:
        return await catalog_store.get_product(conn, org, product)

    return await db.read(work)


async def test_remember_from_purchase_fills_product_and_variant_names(db: Database) -> None:
    org = str(uuid.uuid4())
    document = first_purchase()

    async def work(conn: AsyncConnection) -> int:
        return await catalog.remember_from_purchase(conn, org, document)

    assert await db.write(work) == 2
    entry = await stored(db, org, "4a98a670-7c2e-11eb-bb38-e398536ff6aa")
    assert entry is not None and entry.name == "T-shirt"
    assert [(v.uuid, v.name, v.sku) for v in entry.variants] == [
        ("4a98a671-7c2e-11eb-bb38-e398536ff6aa", "Small", "TEE-S"),
        ("4a98a672-7c2e-11eb-bb38-e398536ff6aa", "Medium", "TEE-M"),
    ]


async def test_remember_from_purchase_skips_bad_lines_and_keeps_known_names(db: Database) -> None:
    org, product, variant = (str(uuid.uuid4()) for _ in range(3))

    async def seed(conn: AsyncConnection) -> None:
        await catalog_store.replace_product(
            conn, org, product, "Coffee", [catalog_store.CatalogVariant(variant, "250 g", "COF", "123")], 1
        )

    await db.write(seed)
    document = {
        "products": [
            {"productUuid": product.upper(), "variantUuid": variant, "name": "", "variantName": None},
            {"name": "custom amount, no product"},
            {"productUuid": "nope", "variantUuid": variant, "name": "x"},
            "not a line",
        ]
    }

    async def work(conn: AsyncConnection) -> int:
        return await catalog.remember_from_purchase(conn, org, document)

    assert await db.write(work) == 1
    entry = await stored(db, org, product)
    assert entry is not None and entry.name == "Coffee"
    assert entry.variants == [catalog_store.CatalogVariant(variant, "250 g", "COF", "123")]

    async def no_lines(conn: AsyncConnection) -> int:
        return await catalog.remember_from_purchase(conn, org, {"products": None})

    assert await db.write(no_lines) == 0


def in_own_thread(work: Callable[[], T]) -> T:
    """The CLI runs its own event loop; the test session's loop may be running in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def invoke_cli(args: list[str]) -> Result:
    return in_own_thread(lambda: CliRunner().invoke(cli, args))


@pytest.fixture
def sqlite_cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STOCKLEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STOCKLEDGER_DATABASE_URL", raising=False)
    return tmp_path


def read_back(data_dir: Path, org: str, product: str) -> CatalogProduct | None:
    async def read() -> CatalogProduct | None:
        url = f"sqlite+aiosqlite:///{data_dir / 'data' / 'stockledger.db'}"
        await upgrade(url)
        database = Database(url, pool_size=1)
        try:
            return await stored(database, org, product)
        finally:
            await database.dispose()

    return in_own_thread(lambda: asyncio.run(read()))


def test_catalog_import_merges_rows(sqlite_cli_env: Path) -> None:
    org, product, variant = (str(uuid.uuid4()) for _ in range(3))
    csv_file = sqlite_cli_env / "names.csv"
    csv_file.write_text(
        "productUuid,productName,variantUuid,variantName,sku,barcode\n"
        f"{product},Candle,{variant},Vanilla,CAN-V,5012345678900\n"
        f"{product},Candle,,,,\n"
    )
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", org])
    assert result.exit_code == 0, result.output
    assert "imported 2 rows: 1 products, 1 variants" in result.output
    entry = read_back(sqlite_cli_env, org, product)
    assert entry is not None and entry.name == "Candle"
    assert entry.variants == [catalog_store.CatalogVariant(variant, "Vanilla", "CAN-V", "5012345678900")]


def test_a_file_with_bad_rows_names_each_one_and_imports_nothing(sqlite_cli_env: Path) -> None:
    org, product, variant = (str(uuid.uuid4()) for _ in range(3))
    csv_file = sqlite_cli_env / "names.csv"
    csv_file.write_text(
        "productUuid,productName,variantUuid,variantName,sku,barcode\n"
        f"{product},Candle,{variant},Vanilla,CAN-V,5012345678900\n"
        "not-a-uuid,Broken,,,,\n"
        f"{product},,bad-variant,,,\n"
    )
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", org])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "line 3: productUuid is not a UUID",
        "line 4: variantUuid is not a UUID",
        f"{csv_file}: 2 bad rows; nothing was imported",
    ]
    assert read_back(sqlite_cli_env, org, product) is None


@pytest.mark.parametrize(
    ("encoding", "separator"), [("cp1252", ";"), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-8", ",")]
)
def test_catalog_import_reads_what_spreadsheets_save(
    sqlite_cli_env: Path, encoding: str, separator: str
) -> None:
    org, product, variant = (str(uuid.uuid4()) for _ in range(3))
    csv_file = sqlite_cli_env / "names.csv"
    header = separator.join(["productUuid", "productName", "variantUuid", "variantName", "sku", "barcode"])
    row = separator.join([product, "Crème brûlée", variant, "Petit", "CB-1", ""])
    csv_file.write_bytes(f"{header}\r\n{row}\r\n".encode(encoding))
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", org])
    assert result.exit_code == 0, result.output
    entry = read_back(sqlite_cli_env, org, product)
    assert entry is not None and entry.name == "Crème brûlée"
    assert entry.variants[0].sku == "CB-1"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"PK\x03\x04" + bytes(300), "spreadsheet workbook, not CSV"),
        (bytes(range(256)) * 4, "save it as CSV"),
    ],
)
def test_a_file_that_is_not_csv_gets_one_line_and_exit_1(
    sqlite_cli_env: Path, content: bytes, said: str
) -> None:
    csv_file = sqlite_cli_env / "names.csv"
    csv_file.write_bytes(content)
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", str(uuid.uuid4())])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and said in result.output
    assert "Traceback" not in result.output


def test_duplicate_skus_are_refused_with_the_rows_named(sqlite_cli_env: Path) -> None:
    org, product = str(uuid.uuid4()), str(uuid.uuid4())
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    csv_file = sqlite_cli_env / "names.csv"
    csv_file.write_text(
        "productUuid,productName,variantUuid,variantName,sku,barcode\n"
        f"{product},Candle,{a},Small,CAN,\n"
        f"{product},Candle,{b},Large,CAN,\n"
    )
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", org])
    assert result.exit_code == 1
    assert "line 3: sku CAN is also given to another variant on line 2" in result.output
    assert read_back(sqlite_cli_env, org, product) is None
    # A SKU another variant of the library already holds is refused too.
    csv_file.write_text(f"productUuid,variantUuid,sku\n{product},{a},CAN\n")
    assert invoke_cli(["catalog", "import", str(csv_file), "--org", org]).exit_code == 0
    other = str(uuid.uuid4())
    csv_file.write_text(f"productUuid,variantUuid,sku\n{other},{c},CAN\n")
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", org])
    assert result.exit_code == 1
    assert f"line 2: sku CAN already belongs to variant {a} of product {product}" in result.output
    assert read_back(sqlite_cli_env, org, other) is None


def test_catalog_import_refuses_a_file_without_the_product_column(sqlite_cli_env: Path) -> None:
    csv_file = sqlite_cli_env / "names.csv"
    csv_file.write_text("name,sku\nCandle,CAN\n")
    result = invoke_cli(["catalog", "import", str(csv_file), "--org", str(uuid.uuid4())])
    assert result.exit_code == 1
    assert "no productUuid column" in result.output
