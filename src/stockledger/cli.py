"""The `stockledger` command: serve, migrate, token, apikey."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.config import ConfigError, Settings
from stockledger.domain.ids import canonical_uuid
from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade
from stockledger.tokens import DEFAULT_SCOPES, mint_access_token, mint_api_key, parse_ttl

app = typer.Typer(
    help="stockledger: a Zettle-compatible inventory service on a stock ledger.", no_args_is_help=True
)
apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")

DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="overrides STOCKLEDGER_DATABASE_URL")]
DataDirOpt = Annotated[str | None, typer.Option("--data-dir", help="overrides STOCKLEDGER_DATA_DIR")]


def fail(message: str) -> None:
    """One plain sentence and exit status 2: configuration problems never show a traceback."""
    typer.echo(f"stockledger: {message}", err=True)
    raise typer.Exit(2)


def load_settings(database_url: str | None = None, data_dir: str | None = None) -> Settings:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
        raise
    from pathlib import Path

    return settings.with_overrides(database_url=database_url, data_dir=Path(data_dir) if data_dir else None)


def org_uuid(value: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        fail(f"--org must be a UUID, got {value!r}.")
        raise AssertionError
    return canonical


def secret_of(settings: Settings) -> str:
    try:
        return settings.resolve_secret()
    except ConfigError as exc:
        fail(str(exc))
        raise


@app.command()
def migrate(database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Apply database migrations."""
    settings = load_settings(database_url, data_dir)
    asyncio.run(upgrade(settings.effective_database_url()))
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="overrides STOCKLEDGER_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="overrides STOCKLEDGER_PORT")] = None,
    workers: Annotated[int, typer.Option(help="server processes (PostgreSQL)")] = 1,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Migrate the database if needed, then serve HTTP."""
    import uvicorn

    settings = load_settings(database_url, data_dir).with_overrides(host=host, port=port)
    if not 0 < settings.port < 65536:
        fail(f"the port must be between 1 and 65535, got {settings.port}.")
    secret_of(settings)  # create (or check) the secret file before the workers start
    asyncio.run(upgrade(settings.effective_database_url()))
    # Workers read their settings from the environment: hand over what the flags changed.
    os.environ["STOCKLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        os.environ["STOCKLEDGER_DATABASE_URL"] = settings.database_url
    os.environ["STOCKLEDGER_WORKERS"] = str(max(1, workers))  # the processes split one connection budget
    uvicorn.run(
        "stockledger.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers if workers > 1 else None,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s),
    )


@app.command()
def token(
    org: Annotated[str, typer.Option(help="organization UUID")],
    scope: Annotated[str, typer.Option(help="space-separated scopes")] = DEFAULT_SCOPES,
    sub: Annotated[str | None, typer.Option(help="user UUID (default: a new one)")] = None,
    client_id: Annotated[str | None, typer.Option("--client-id")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime, e.g. 2h, 30m")] = "2h",
    data_dir: DataDirOpt = None,
) -> None:
    """Print an access token (for scripts and local development)."""
    settings = load_settings(None, data_dir)
    typer.echo(
        mint_access_token(
            secret_of(settings),
            org=org_uuid(org),
            sub=sub or str(uuid.uuid4()),
            scopes=scope,
            client_id=client_id,
            ttl_s=parse_ttl(ttl),
        )
    )


def _with_db(settings: Settings, work: object) -> object:
    async def run() -> object:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=2)
        try:
            return await db.write(work)  # type: ignore[arg-type]
        finally:
            await db.dispose()

    return asyncio.run(run())


@apikey_app.command("create")
def apikey_create(
    org: Annotated[str, typer.Option(help="organization UUID")],
    scope: Annotated[str, typer.Option(help="space-separated scopes")] = DEFAULT_SCOPES,
    sub: Annotated[str | None, typer.Option(help="user UUID the key acts as (default: a new one)")] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Issue an API key (exchange it at POST /token). Prints the key id, then the key."""
    settings = load_settings(database_url, data_dir)
    org_id = org_uuid(org)
    user = sub or str(uuid.uuid4())
    key_id, key = mint_api_key(secret_of(settings), org=org_id, sub=user, scopes=scope)

    async def work(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, org_id, user, scope)

    _with_db(settings, work)
    typer.echo(f"key id: {key_id}", err=True)
    typer.echo(key)


@apikey_app.command("revoke")
def apikey_revoke(key_id: str, database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Revoke an API key: POST /token refuses it from now on."""
    settings = load_settings(database_url, data_dir)

    async def work(conn: AsyncConnection) -> bool:
        return await apikeys.revoke(conn, key_id)

    if not _with_db(settings, work):
        fail(f"no active API key with id {key_id}.")
    typer.echo(f"revoked {key_id}")


@apikey_app.command("list")
def apikey_list(
    org: Annotated[str | None, typer.Option(help="only this organization")] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List issued API keys (ids, organizations, scopes, state; never the keys themselves)."""
    settings = load_settings(database_url, data_dir)

    async def work(conn: AsyncConnection) -> list[apikeys.ApiKeyRecord]:
        return await apikeys.list_all(conn, org_uuid(org) if org else None)

    records = _with_db(settings, work)
    assert isinstance(records, list)
    for record in records:
        state = "revoked" if record.revoked_ms else "active"
        typer.echo(f"{record.key_id}\t{record.org_uuid}\t{state}\t{record.scopes}")


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        typer.echo(f"stockledger: {exc}", err=True)
        sys.exit(2)
