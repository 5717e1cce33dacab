"""The `stockledger` command: serve, dispatch, migrate, config, keys, backups, purchases, catalog, org."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger import __version__
from stockledger.cli_catalog import catalog_app
from stockledger.cli_options import DatabaseOpt, DataDirOpt, OrgOpt
from stockledger.cli_org import org_app
from stockledger.config import ConfigError, Settings
from stockledger.config_check import (
    check_settings,
    check_unknown_variables,
    describe_database_error,
    effective_settings,
    redact_url,
)
from stockledger.domain.ids import canonical_uuid, new_uuid1
from stockledger.domain.low_stock_rules import default_level_units
from stockledger.metrics import share_between_workers, stop_sharing
from stockledger.private_files import open_private_for_writing
from stockledger.service.purchase_import import ImportSummary, replay
from stockledger.shutdown import exit_cleanly_after_signals
from stockledger.store import apikeys, instance
from stockledger.store import purchases as purchase_store
from stockledger.store.db import Database
from stockledger.store.migrate import head_revision, upgrade
from stockledger.store.sql import now_ms
from stockledger.tokens import (
    API_KEY_TTL_S,
    DEFAULT_SCOPES,
    KNOWN_SCOPES,
    mint_access_token,
    mint_api_key,
    parse_ttl,
)

T = TypeVar("T")

# Plain help screens (rich_markup_mode=None): options show their placeholders (UUID, FILE…), not
# the Python type of their value.
app = typer.Typer(
    help="stockledger: a Zettle-compatible inventory service on a stock ledger.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
apikey_app = typer.Typer(
    help="Create, list and revoke API keys.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(apikey_app, name="apikey")
purchases_app = typer.Typer(
    help="Record point-of-sale purchases: Zettle connection, replay.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(purchases_app, name="purchases")
app.add_typer(catalog_app, name="catalog")
app.add_typer(org_app, name="org")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stockledger {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """stockledger: a Zettle-compatible inventory service on a stock ledger."""


def fail(message: str) -> None:
    """One plain sentence and exit status 2: configuration problems never show a traceback."""
    typer.echo(f"stockledger: {message}", err=True)
    raise typer.Exit(2)


def load_settings(database_url: str | None = None, data_dir: str | None = None) -> Settings:
    from pathlib import Path

    try:
        check_unknown_variables()
        settings = Settings.from_env().with_overrides(
            database_url=database_url, data_dir=Path(data_dir) if data_dir else None
        )
        check_settings(settings)
    except ConfigError as exc:
        fail(str(exc))
        raise
    return settings


def run_on_db(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; a database that cannot be reached or opened ends the command with one sentence."""
    try:
        return asyncio.run(work)
    except Exception as exc:
        message = describe_database_error(exc, settings)
        if message is None:
            raise
        fail(message)
        raise


def uuid_option(value: str, option: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        fail(f"{option} must be a UUID, got {value!r}.")
        raise AssertionError
    return canonical


def org_uuid(value: str) -> str:
    return uuid_option(value, "--org")


def scopes_option(value: str) -> str:
    """`--scope`: space-separated scopes, each one stockledger knows; else exit 2 naming it."""
    scopes = value.split()
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if not scopes or unknown:
        what = f"unknown scope {' '.join(unknown)}" if unknown else "no scope given"
        fail(f"--scope: {what}; use some of {' '.join(KNOWN_SCOPES)}.")
    return " ".join(scopes)


def secret_of(settings: Settings) -> str:
    try:
        return settings.resolve_secret()
    except ConfigError as exc:
        fail(str(exc))
        raise


def secret_source(settings: Settings) -> str:
    return "STOCKLEDGER_SECRET" if settings.secret else str(settings.data_dir / "secret")


def check_secret_matches(settings: Settings, secret: str) -> None:
    """Refuse to run with another secret than the one the database's API keys were signed with
    (every key and token would be refused); the first command to use a database records its secret."""

    async def claim(conn: AsyncConnection) -> bool:
        return await instance.claim_secret(conn, secret)

    if not _with_db(settings, claim):
        fail(
            f"the database's API keys were signed with another secret than the one in use"
            f" ({secret_source(settings)}), so every key and token would be refused; set"
            " STOCKLEDGER_SECRET to the original (the `secret` file of the data directory the database"
            " came from), or run `stockledger adopt-secret` to keep this one and give up the old keys."
        )


@app.command("adopt-secret")
def adopt_secret(database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Record the secret in use as the database's secret, after changing it on purpose: every API key
    and token issued with the old secret stops working."""
    settings = load_settings(database_url, data_dir)
    secret = secret_of(settings)

    async def adopt(conn: AsyncConnection) -> None:
        await instance.forget_secret(conn)
        await instance.claim_secret(conn, secret)

    _with_db(settings, adopt)
    typer.echo(f"the database now goes with the secret in {secret_source(settings)}")


@app.command()
def migrate(database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Apply database migrations."""
    settings = load_settings(database_url, data_dir)
    applied = run_on_db(settings, upgrade(settings.effective_database_url()))
    typer.echo(migration_summary(applied))


def migration_summary(applied: list[str]) -> str:
    """What `migrate` did, in one line."""
    if not applied:
        return f"the database was already up to date (schema {head_revision()}); nothing applied"
    names = ", ".join(applied)
    plural = "migration" if len(applied) == 1 else "migrations"
    return f"applied {len(applied)} {plural} ({names}); the database is now at schema {applied[-1]}"


@app.command("config")
def show_config(database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print the effective settings as KEY=value lines (secrets and passwords redacted)."""
    settings = load_settings(database_url, data_dir)
    for name, value in effective_settings(settings):
        typer.echo(f"{name}={value}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(metavar="ADDRESS", help="overrides STOCKLEDGER_HOST")] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="overrides STOCKLEDGER_PORT")] = None,
    workers: Annotated[int | None, typer.Option(metavar="N", help="overrides STOCKLEDGER_WORKERS")] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Migrate the database if needed, then serve HTTP."""
    settings = load_settings(database_url, data_dir).with_overrides(host=host, port=port, workers=workers)
    if not 0 < settings.port < 65536:
        fail(f"the port must be between 1 and 65535, got {settings.port}.")
    if settings.workers < 1:
        fail(f"--workers must be 1 or more, got {settings.workers}.")
    secret = secret_of(settings)  # create (or check) the secret file before the workers start
    check_secret_matches(settings, secret)  # migrates the database first
    exit_cleanly_after_signals()
    announce(settings)
    # Workers read their settings from the environment: hand over what the flags changed.
    os.environ["STOCKLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        os.environ["STOCKLEDGER_DATABASE_URL"] = settings.database_url
    os.environ["STOCKLEDGER_WORKERS"] = str(settings.workers)  # the processes split one connection budget
    shared_metrics = share_between_workers() if settings.workers > 1 else None
    try:
        _run_uvicorn(settings)
    finally:
        if shared_metrics is not None:
            stop_sharing(shared_metrics)


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "stockledger.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        access_log=False,
        log_config=None,
        # Behind a reverse proxy: the client's address and scheme (https → Secure cookies) come from
        # X-Forwarded-For/-Proto, believed only from these addresses.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # uvicorn's default protocol (httptools) plus the send timeout (STOCKLEDGER_SEND_TIMEOUT_S).
        http="stockledger.http_protocol:HttpProtocol",
        # In-flight requests get this long to finish after SIGTERM; then they are cancelled.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout_s),
    )


def startup_places(settings: Settings) -> dict[str, str]:
    """Where everything is, as a client outside the server reaches it."""
    wildcard = settings.host in ("0.0.0.0", "::", "")  # noqa: S104 (shown, not bound)
    shown_host = "127.0.0.1" if wildcard else settings.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base = settings.public_url or f"http://{shown_host}:{settings.port}"
    database = (
        redact_url(settings.database_url)
        if settings.database_url
        else f"embedded SQLite in {settings.data_dir.resolve()}"
    )
    return {
        "api": f"{base}/",
        "api_v3": f"{base}/v3",
        "swagger": f"{base}/swagger",
        "back_office": f"{base}/ui",
        "database": database,
    }


def startup_message(settings: Settings) -> str:
    """What `serve` tells an operator at a terminal once, before it listens."""
    places = startup_places(settings)
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    return "\n".join(
        [
            f"stockledger {__version__}: listening on {settings.host}:{settings.port} ({workers}),"
            f" database: {places['database']}",
            f"  API               {places['api']}  (Zettle Inventory API; v3 under {places['api_v3']})",
            f"  API documentation {places['swagger']}",
            f"  Back office       {places['back_office']}  (sign in with an API key)",
            "  An API key        stockledger apikey create --org <organization UUID>",
            "  An access token   stockledger token --org <organization UUID>",
        ]
    )


def announce(settings: Settings) -> None:
    """Say once where everything is: as text at a terminal, else as one JSON log line (stderr
    carries the JSON logs that a collector parses)."""
    if sys.stderr.isatty():
        typer.echo(startup_message(settings), err=True)
        return
    from stockledger.logging_setup import configure

    configure(settings.log_level)
    logging.getLogger("stockledger").info(
        "stockledger is serving",
        extra={
            "version": __version__,
            "listen": f"{settings.host}:{settings.port}",
            **startup_places(settings),
        },
    )


@app.command()
def dispatch(database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Deliver webhooks without serving HTTP (any number may run against one PostgreSQL)."""
    from stockledger.events.delivery import Deliverer
    from stockledger.events.dispatcher import Dispatcher
    from stockledger.logging_setup import configure

    settings = load_settings(database_url, data_dir)
    configure(settings.log_level)

    async def run() -> None:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=4)
        dispatcher = Dispatcher(db, Deliverer(allow_private=settings.webhook_allow_private))
        task = asyncio.create_task(dispatcher.run_forever())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            await dispatcher.stop()
            await db.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@app.command()
def token(
    org: OrgOpt,
    scope: Annotated[str, typer.Option(metavar="SCOPES", help="space-separated scopes")] = DEFAULT_SCOPES,
    sub: Annotated[str | None, typer.Option(metavar="UUID", help="user UUID (default: a new one)")] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="UUID", help="client UUID (events' clientUuid)")
    ] = None,
    ttl: Annotated[str, typer.Option(metavar="DURATION", help="lifetime, e.g. 2h, 30m")] = "2h",
    data_dir: DataDirOpt = None,
) -> None:
    """Print an access token (for scripts and local development)."""
    settings = load_settings(None, data_dir)
    typer.echo(
        mint_access_token(
            secret_of(settings),
            org=org_uuid(org),
            sub=sub or str(uuid.uuid4()),
            scopes=scopes_option(scope),
            client_id=uuid_option(client_id, "--client-id") if client_id else None,
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

    return run_on_db(settings, run())


@apikey_app.command("create")
def apikey_create(
    org: OrgOpt,
    scope: Annotated[str, typer.Option(metavar="SCOPES", help="space-separated scopes")] = DEFAULT_SCOPES,
    sub: Annotated[
        str | None, typer.Option(metavar="UUID", help="user UUID the key acts as (default: a new one)")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="UUID", help="client UUID (default: a new one)")
    ] = None,
    ttl: Annotated[
        str | None, typer.Option(metavar="DURATION", help="lifetime, e.g. 365d (default: 30 years)")
    ] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Issue an API key (exchange it at POST /token). Prints the key id and client id, then the key."""
    settings = load_settings(database_url, data_dir)
    org_id = org_uuid(org)
    user = sub or str(uuid.uuid4())
    client = uuid_option(client_id, "--client-id") if client_id else new_uuid1()
    lifetime_s = parse_ttl(ttl) if ttl else API_KEY_TTL_S
    scope = scopes_option(scope)
    secret = secret_of(settings)
    check_secret_matches(settings, secret)
    key_id, key = mint_api_key(secret, org=org_id, sub=user, scopes=scope, client_id=client, ttl_s=lifetime_s)

    async def work(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, org_id, user, scope)

    _with_db(settings, work)
    typer.echo(f"client id: {client}", err=True)
    typer.echo(f"key id: {key_id}", err=True)
    typer.echo(key)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="the key id `apikey create` printed")],
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke an API key: POST /token refuses it from now on."""
    settings = load_settings(database_url, data_dir)

    async def work(conn: AsyncConnection) -> bool:
        return await apikeys.revoke(conn, key_id)

    if not _with_db(settings, work):
        fail(f"no active API key with id {key_id}.")
    typer.echo(f"revoked {key_id}")


@apikey_app.command("list")
def apikey_list(
    org: Annotated[str | None, typer.Option(metavar="UUID", help="only this organization")] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List issued API keys (ids, organizations, scopes, state; never the keys themselves)."""
    settings = load_settings(database_url, data_dir)

    async def work(conn: AsyncConnection) -> list[apikeys.ApiKeyRecord]:
        return await apikeys.list_all(conn, org_uuid(org) if org else None)

    records = _with_db(settings, work)
    assert isinstance(records, list)
    typer.echo(apikey_table(records))


def apikey_table(records: list[apikeys.ApiKeyRecord]) -> str:
    """The API keys as aligned columns under a header line (tab-free, so it reads in a terminal)."""
    header = ("KEY ID", "ORGANIZATION", "CREATED (UTC)", "STATE", "SCOPES")
    rows = [header] + [
        (
            r.key_id,
            r.org_uuid,
            datetime.fromtimestamp(r.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M"),
            "revoked" if r.revoked_ms else "active",
            r.scopes,
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]
    if not records:
        lines.append("(no API keys yet: stockledger apikey create --org <organization UUID>)")
    return "\n".join(lines)


@app.command("export")
def export_command(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="where to write the export (JSON lines); - for stdout")
    ],
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Export the whole database (every organization, the whole ledger) as JSON lines."""
    from stockledger.store.backup import export_lines

    settings = load_settings(database_url, data_dir)

    async def run() -> int:
        db = Database(settings.effective_database_url(), pool_size=1)
        lines = 0
        # A CLI process: nothing else runs on this event loop, so blocking file I/O is fine here.
        # The export holds secrets (signing keys, purchase connection keys): readable by its owner only.
        handle = sys.stdout.buffer if file == "-" else open_private_for_writing(Path(file))
        try:

            async def work(conn: AsyncConnection) -> None:
                nonlocal lines
                async for line in export_lines(conn):
                    handle.write(line)
                    lines += 1

            await db.read(work)
        finally:
            if handle is not sys.stdout.buffer:
                handle.close()
            await db.dispose()
        return lines - 1

    rows = asyncio.run(run())
    typer.echo(f"exported {rows} rows", err=True)
    typer.echo(
        f"keep the secret ({secret_source(settings)}) with this export: the API keys in it work only"
        " with that secret (set STOCKLEDGER_SECRET to it where you import)",
        err=True,
    )


@app.command("import")
def import_command(
    file: Annotated[str, typer.Argument(metavar="FILE", help="an export made by `stockledger export`")],
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Load an export into an empty database (migrated first); all of it or nothing."""
    from stockledger.store.backup import BackupError, import_lines

    settings = load_settings(database_url, data_dir)

    async def work(conn: AsyncConnection) -> dict[str, int]:
        with open(file, "rb") as handle:  # noqa: ASYNC230 - a CLI process, nothing else on the loop
            return await import_lines(conn, handle)

    try:
        counts = _with_db(settings, work)
    except BackupError as exc:
        fail(str(exc))
    except FileNotFoundError:
        fail(f"no such file: {file}.")
    assert isinstance(counts, dict)
    typer.echo(f"imported {sum(counts.values())} rows", err=True)
    secret = secret_of(settings)

    async def mismatch(conn: AsyncConnection) -> bool:
        return await instance.other_secret_recorded(conn, secret)

    if _with_db(settings, mismatch):
        typer.echo(
            "warning: the imported API keys were signed with another secret than the one in use"
            f" ({secret_source(settings)}); set STOCKLEDGER_SECRET to the secret of the exporting"
            " installation before `serve`, which refuses to start otherwise",
            err=True,
        )


@purchases_app.command("connect")
def purchases_connect(
    org: OrgOpt,
    signing_key: Annotated[
        str, typer.Option("--signing-key", metavar="KEY", help="signingKey of the Zettle subscription")
    ],
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Set the signing key that verifies Zettle's PurchaseCreated deliveries to /webhooks/zettle/ORG."""
    settings = load_settings(database_url, data_dir)
    org_id = org_uuid(org)
    key = signing_key.strip()
    if not key or len(key) > 255:
        fail("--signing-key must be 1 to 255 characters.")

    async def work(conn: AsyncConnection) -> None:
        await purchase_store.set_signing_key(conn, org_id, key, now_ms())

    _with_db(settings, work)
    typer.echo(f"connected: Zettle deliveries to /webhooks/zettle/{org_id} are verified with this key")


@purchases_app.command("import")
def purchases_import(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="JSON Lines: one purchase document per line", dir_okay=False),
    ],
    org: OrgOpt,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Record a file of purchase documents (already recorded purchases are left alone)."""
    from rich.progress import Progress

    settings = load_settings(database_url, data_dir)
    org_id = org_uuid(org)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
        raise

    async def run(advance: Callable[[], None]) -> ImportSummary:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=2)
        try:
            return await replay(
                db,
                org_id,
                lines,
                max_lines=settings.max_changes,
                default_low_stock_units=default_level_units(settings.default_low_stock_level),
                on_line=advance,
            )
        finally:
            await db.dispose()

    with Progress(transient=True) as progress:
        task = progress.add_task("recording purchases", total=len(lines))
        summary = asyncio.run(run(lambda: progress.advance(task)))
    skipped = sum(summary.skipped_lines.values())
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.skipped_lines.items()))
    typer.echo(
        f"purchases: {summary.recorded} recorded, {summary.already_recorded} already recorded, "
        f"{len(summary.invalid)} invalid"
    )
    typer.echo(
        f"lines: {summary.applied_lines} applied, {skipped} skipped" + (f" ({reasons})" if reasons else "")
    )
    for number, reason in summary.invalid:
        typer.echo(f"line {number}: {reason}", err=True)
    if summary.invalid:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        typer.echo(f"stockledger: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        # Commands that reach the database without `run_on_db` still end in one sentence.
        try:
            settings = Settings.from_env()
        except ConfigError:
            settings = Settings.model_construct()
        message = describe_database_error(exc, settings)
        if message is None:
            raise
        typer.echo(f"stockledger: {message}", err=True)
        sys.exit(2)
