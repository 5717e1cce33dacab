"""`stockledger catalog import FILE.csv`: load product and variant names for the back office."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from stockledger.cli_options import DatabaseOpt, DataDirOpt, OrgOpt
from stockledger.config import ConfigError, Settings
from stockledger.domain.ids import canonical_uuid
from stockledger.service.catalog import ImportRow, import_rows, parse_import_row
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade

catalog_app = typer.Typer(
    help="Product and variant names shown by the back office.", no_args_is_help=True, rich_markup_mode=None
)

COLUMNS = ("productUuid", "productName", "variantUuid", "variantName", "sku", "barcode")
BATCH_ROWS = 500  # one transaction per batch: progress stays visible, locks stay short
MAX_REASONS_SHOWN = 10


def _fail(message: str) -> None:
    typer.echo(f"stockledger: {message}", err=True)
    raise typer.Exit(2)


def read_rows(path: Path) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """Valid rows, and (line number, reason) of every skipped row."""
    rows: list[ImportRow] = []
    skipped: list[tuple[int, str]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("productUuid",) if c not in (reader.fieldnames or [])]
        if missing:
            _fail(f"{path} has no {missing[0]} column; expected the columns {', '.join(COLUMNS)}.")
        for row in reader:
            parsed = parse_import_row(row)
            if isinstance(parsed, str):
                skipped.append((reader.line_num, parsed))
            else:
                rows.append(parsed)
    return rows, skipped


@catalog_app.command("import")
def import_csv(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="CSV with columns " + ",".join(COLUMNS), exists=True, dir_okay=False
        ),
    ],
    org: OrgOpt,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Merge names from a CSV file into the catalog (a blank cell keeps the stored value)."""
    org_id = canonical_uuid(org)
    if org_id is None:
        _fail(f"--org must be a UUID, got {org!r}.")
    assert org_id is not None
    try:
        settings = Settings.from_env().with_overrides(
            database_url=database_url, data_dir=Path(data_dir) if data_dir else None
        )
    except ConfigError as exc:
        _fail(str(exc))
        raise
    rows, skipped = read_rows(file)
    console = Console(stderr=True)

    async def run() -> None:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=2)
        try:
            with Progress(
                TextColumn("importing names"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("import", total=len(rows))
                for start in range(0, len(rows), BATCH_ROWS):
                    batch = rows[start : start + BATCH_ROWS]
                    await import_rows(db, org_id, batch)
                    progress.advance(task, len(batch))
        finally:
            await db.dispose()

    asyncio.run(run())
    products = len({r.product_uuid for r in rows})
    variants = len({(r.product_uuid, r.variant.uuid) for r in rows if r.variant is not None})
    typer.echo(
        f"imported {len(rows)} rows: {products} products, {variants} variants; skipped {len(skipped)} rows"
    )
    for line, reason in skipped[:MAX_REASONS_SHOWN]:
        typer.echo(f"  line {line}: {reason}", err=True)
    if len(skipped) > MAX_REASONS_SHOWN:
        typer.echo(f"  … and {len(skipped) - MAX_REASONS_SHOWN} more", err=True)
