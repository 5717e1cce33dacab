"""`stockledger catalog import FILE.csv`: load product and variant names for the back office."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from stockledger.cli_options import DatabaseOpt, DataDirOpt, OrgOpt
from stockledger.config import ConfigError, Settings
from stockledger.domain.csv_files import CsvFileError, read_csv
from stockledger.domain.ids import canonical_uuid
from stockledger.service.catalog import ImportRow, check_import, import_rows, parse_import_row
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade

catalog_app = typer.Typer(
    help="Product and variant names shown by the back office.", no_args_is_help=True, rich_markup_mode=None
)

COLUMNS = ("productUuid", "productName", "variantUuid", "variantName", "sku", "barcode")
BATCH_ROWS = 500  # one transaction per batch: progress stays visible, locks stay short
MAX_REASONS_SHOWN = 200
MAX_ROWS = 200_000


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"stockledger: {message}", err=True)
    raise typer.Exit(code)


def read_rows(path: Path) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """Valid rows, and (line number, reason) of every bad row; a file that is no CSV → exit 1.
    Any encoding and separator a spreadsheet saves CSV in is read (domain/csv_files.py)."""
    try:
        table = read_csv(path.read_bytes(), max_rows=MAX_ROWS)
    except CsvFileError as exc:
        _fail(f"{path}: {exc}", code=1)
        raise
    if "productUuid" not in table.header:
        _fail(f"{path} has no productUuid column; expected the columns {', '.join(COLUMNS)}.", code=1)
    rows: list[ImportRow] = []
    bad: list[tuple[int, str]] = []
    for line, cells in table.rows:
        parsed = parse_import_row(dict(zip(table.header, cells, strict=False)))
        if isinstance(parsed, str):
            bad.append((line, parsed))
        else:
            rows.append(replace(parsed, line=line))
    return rows, bad


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
    """Merge names from a CSV file into the Product Library (a blank cell keeps the stored value)."""
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
    rows, bad = read_rows(file)
    console = Console(stderr=True)
    refused: list[tuple[ImportRow, str]] = []
    raced: list[tuple[ImportRow, str]] = []  # refused while writing: the library changed meanwhile

    async def run() -> None:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=2)
        try:
            # Every row is checked before anything is written: a file with a bad row imports nothing.
            refused.extend(await check_import(db, org_id, rows))
            if bad or refused:
                return
            with Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("import", total=len(rows))
                for start in range(0, len(rows), BATCH_ROWS):
                    batch = rows[start : start + BATCH_ROWS]
                    raced.extend(await import_rows(db, org_id, batch))
                    progress.advance(task, len(batch))
        finally:
            await db.dispose()

    asyncio.run(run())
    problems = sorted(bad + [(row.line, reason) for row, reason in refused + raced])
    for line, reason in problems[:MAX_REASONS_SHOWN]:
        typer.echo(f"line {line}: {reason}", err=True)
    if len(problems) > MAX_REASONS_SHOWN:
        typer.echo(f"… and {len(problems) - MAX_REASONS_SHOWN} more bad rows", err=True)
    if raced:
        typer.echo(
            f"{file}: {len(raced)} rows were refused while importing (the library changed meanwhile);"
            " the other rows were imported",
            err=True,
        )
        raise typer.Exit(1)
    if problems:
        typer.echo(f"{file}: {len(problems)} bad rows; nothing was imported", err=True)
        raise typer.Exit(1)
    products = len({r.product_uuid for r in rows})
    variants = len({(r.product_uuid, r.variant.uuid) for r in rows if r.variant is not None})
    typer.echo(f"imported {len(rows)} rows: {products} products, {variants} variants")
