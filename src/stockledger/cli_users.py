"""`stockledger user create | list | set-password | set-role | disable | enable`: back-office accounts."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer

from stockledger.cli_options import DatabaseOpt, DataDirOpt, OrgOpt
from stockledger.domain.accounts import MIN_PASSWORD_CHARS, Role, check_password, parse_role
from stockledger.domain.errors import ServiceError
from stockledger.service import accounts
from stockledger.service.accounts import Account
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade
from stockledger.store.sql import now_ms

T = TypeVar("T")

user_app = typer.Typer(
    help="People who sign in to the back office: create, list, password, role, disable, enable.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

EmailOpt = Annotated[str, typer.Option("--email", metavar="EMAIL", help="the account's e-mail address")]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="read the password from the first line of standard input (for scripts)"
    ),
]
ROLES = ", ".join(r.value for r in Role)


def _run(database_url: str | None, data_dir: str | None, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the migrated database; a refused change ends the command with its reason."""
    # The shared helpers live in cli.py, which imports this module: imported when a command runs.
    from stockledger.cli import fail, load_settings, run_on_db

    settings = load_settings(database_url, data_dir)

    async def run() -> T:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=2)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return run_on_db(settings, run())
    except ServiceError as exc:
        reasons = [f"--{v.property_name}: {v.message.rstrip('.')}." for v in exc.violations]
        fail(" ".join(reasons) if reasons else exc.message)
        raise


def _role(value: str | None) -> Role | None:
    from stockledger.cli import fail

    if value is None:
        return None
    try:
        return parse_role(value)
    except ValueError as exc:
        fail(f"--role {exc}.")
        raise


def _password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice at a hidden prompt."""
    from stockledger.cli import fail

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(
            f"Password (at least {MIN_PASSWORD_CHARS} characters)", hide_input=True, confirmation_prompt=True
        )
    try:
        return check_password(password)
    except ValueError as exc:
        fail(f"the password {exc}.")
        raise


def describe(account: Account) -> str:
    return "\n".join(
        [
            f"organization: {account.org_uuid}",
            f"account:      {account.uuid}",
            f"e-mail:       {account.email}",
            f"name:         {account.name}",
            f"role:         {account.role.value}",
            f"status:       {status_of(account, now_ms())}",
        ]
    )


def status_of(account: Account, at_ms: int) -> str:
    if account.disabled:
        return "disabled"
    locked = account.locked_until(at_ms)
    if locked is not None:
        return f"locked until {_when(locked)}"
    return "must change password" if account.must_change_password else "active"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def user_table(found: list[Account], at_ms: int) -> str:
    """The accounts as aligned columns under a header line (never a password or its hash)."""
    header = ("E-MAIL", "NAME", "ROLE", "STATUS", "ORGANIZATION", "CREATED (UTC)")
    rows = [header] + [
        (a.email, a.name, a.role.value, status_of(a, at_ms), a.org_uuid, _when(a.created_ms)) for a in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]
    if not found:
        lines.append(
            "(no accounts yet: stockledger user create --org <organization UUID> --email … --name …)"
        )
    return "\n".join(lines)


@user_app.command("create")
def create(
    org: OrgOpt,
    email: EmailOpt,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="the person's name, as pages show it")],
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            metavar="ROLE",
            help=f"{ROLES} (default: owner for the organization's first account, else staff)",
        ),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an account; the organization's first one must be an owner."""
    from stockledger.cli import org_uuid

    org_id, chosen = org_uuid(org), _role(role)
    password = _password(password_stdin)

    async def work(db: Database) -> Account:
        return await accounts.create(db, org_id, email=email, name=name, password=password, role=chosen)

    typer.echo(describe(_run(database_url, data_dir, work)))


@user_app.command("list")
def list_users(
    org: Annotated[str | None, typer.Option("--org", metavar="UUID", help="only this organization")] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List the accounts (e-mail, name, role, status, organization)."""
    from stockledger.cli import org_uuid

    org_id = org_uuid(org) if org else None

    async def work(db: Database) -> list[Account]:
        return await accounts.list_accounts(db, org_id)

    typer.echo(user_table(_run(database_url, data_dir, work), now_ms()))


@user_app.command("set-password")
def set_password(
    email: EmailOpt,
    password_stdin: PasswordStdinOpt = False,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Set a new password: lifts a lock-out and ends the account's sessions."""
    password = _password(password_stdin)

    async def work(db: Database) -> Account:
        found = await accounts.by_email(db, email)
        return await accounts.set_password(db, found.org_uuid, found.uuid, password, must_change=False)

    typer.echo(describe(_run(database_url, data_dir, work)))


@user_app.command("set-role")
def set_role(
    email: EmailOpt,
    role: Annotated[str, typer.Option("--role", metavar="ROLE", help=ROLES)],
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Change the role (the organization keeps at least one active owner)."""
    chosen = _role(role)
    assert chosen is not None

    async def work(db: Database) -> Account:
        found = await accounts.by_email(db, email)
        return await accounts.set_role(db, found.org_uuid, found.uuid, chosen)

    typer.echo(describe(_run(database_url, data_dir, work)))


@user_app.command("disable")
def disable(email: EmailOpt, database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Disable the account: it cannot sign in and its open sessions end at once."""
    _change_account(email, accounts.disable, database_url, data_dir)


@user_app.command("enable")
def enable(email: EmailOpt, database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Enable the account again; also lifts a lock-out before its time."""
    _change_account(email, accounts.enable, database_url, data_dir)


def _change_account(
    email: str,
    change: Callable[[Database, str, str], Awaitable[Account]],
    database_url: str | None,
    data_dir: str | None,
) -> None:
    """Apply `change` to the account with this e-mail and show the account as it is now."""

    async def work(db: Database) -> Account:
        found = await accounts.by_email(db, email)
        return await change(db, found.org_uuid, found.uuid)

    typer.echo(describe(_run(database_url, data_dir, work)))
