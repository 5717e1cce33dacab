"""`stockledger user create | list | set-password | set-role | disable | enable` against the test database."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from click.testing import Result
from typer.testing import CliRunner

from stockledger.cli import app
from stockledger.domain.accounts import MAX_FAILED_SIGNINS, Role
from stockledger.service import accounts, passwords
from stockledger.store.db import Database
from stockledger.store.sql import now_ms

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield


async def run_cli(*args: str, stdin: str | None = None) -> Result:
    """The command runs its own event loop, so it runs in a thread beside the test's."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), input=stdin)


def email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


async def create(database_url: str, org: str, address: str, *extra: str, password: str = PASSWORD) -> Result:
    return await run_cli(
        "user", "create", "--org", org, "--email", address, "--name", "Ada Lund", *extra,
        "--password-stdin", "--database-url", database_url, stdin=password + "\n",
    )  # fmt: skip


async def signs_in(db: Database, address: str, password: str = PASSWORD) -> accounts.SignIn:
    return await accounts.sign_in(
        db, address, password, session_id=secrets.token_urlsafe(16), ttl_s=60, now_ms=now_ms()
    )


async def test_the_first_account_is_the_owner_and_its_password_is_typed_twice(
    database_url: str, db: Database
) -> None:
    org, address = str(uuid.uuid4()), email()
    result = await run_cli(
        "user", "create", "--org", org, "--email", address.upper(), "--name", "Ada Lund",
        "--database-url", database_url, stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"e-mail:       {address}" in result.output and "role:         owner" in result.output
    assert "Repeat for confirmation" in result.output and PASSWORD not in result.output  # hidden
    assert (await signs_in(db, address)).account is not None
    second = await create(database_url, org, email())
    assert second.exit_code == 0 and "role:         staff" in second.output  # later ones: staff


async def test_the_first_account_cannot_be_other_than_an_owner(database_url: str, db: Database) -> None:
    org = str(uuid.uuid4())
    result = await create(database_url, org, email(), "--role", "read-only")
    assert result.exit_code == 2 and "first account of an organization must be an owner" in result.output
    assert await accounts.list_accounts(db, org) == []


async def test_bad_values_are_refused_and_create_nothing(database_url: str, db: Database) -> None:
    org = str(uuid.uuid4())
    cases = [
        (("--role", "boss"), PASSWORD, "--role must be one of owner, staff, read-only"),
        ((), "too short", "the password must be at least 10 characters long"),
    ]
    for extra, password, message in cases:
        result = await create(database_url, org, email(), *extra, password=password)
        assert result.exit_code == 2 and message in result.output, result.output
    result = await run_cli(
        "user", "create", "--org", org, "--email", "nope", "--name", " ", "--password-stdin",
        "--database-url", database_url, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--email: must be an e-mail address." in result.output and "--name: must be 1 to" in result.output
    assert await accounts.list_accounts(db, org) == []


async def test_an_e_mail_is_unique_in_the_installation_whatever_its_case(database_url: str) -> None:
    address = email()
    assert (await create(database_url, str(uuid.uuid4()), address)).exit_code == 0
    again = await create(database_url, str(uuid.uuid4()), address.upper())
    assert again.exit_code == 2 and "exists already" in again.output


async def test_list_is_a_table_with_a_header_and_no_secrets(database_url: str, db: Database) -> None:
    org, address = str(uuid.uuid4()), email()
    assert (await create(database_url, org, address)).exit_code == 0
    result = await run_cli("user", "list", "--org", org, "--database-url", database_url)
    assert result.exit_code == 0
    header, row = result.output.splitlines()
    assert header.split() == ["E-MAIL", "NAME", "ROLE", "STATUS", "ORGANIZATION", "CREATED", "(UTC)"]
    assert row.split()[:5] == [address, "Ada", "Lund", "owner", "active"] and org in row
    assert "argon2" not in result.output and PASSWORD not in result.output
    empty = await run_cli("user", "list", "--org", str(uuid.uuid4()), "--database-url", database_url)
    assert "no accounts yet" in empty.output


async def test_set_password_lifts_the_lock_and_ends_the_sessions(database_url: str, db: Database) -> None:
    org, address = str(uuid.uuid4()), email()
    assert (await create(database_url, org, address)).exit_code == 0
    opened = await signs_in(db, address)
    assert opened.account is not None
    for _ in range(MAX_FAILED_SIGNINS):
        await signs_in(db, address, "a wrong guess")
    assert (await signs_in(db, address)).locked_until_ms is not None
    new = "the new long password"
    result = await run_cli(
        "user", "set-password", "--email", address, "--password-stdin", "--database-url", database_url,
        stdin=new + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (await signs_in(db, address)).account is None
    assert (await signs_in(db, address, new)).account is not None


async def test_set_role_keeps_an_active_owner(database_url: str, db: Database) -> None:
    org, owner, staff = str(uuid.uuid4()), email(), email()
    assert (await create(database_url, org, owner)).exit_code == 0
    assert (await create(database_url, org, staff)).exit_code == 0
    refused = await run_cli(
        "user", "set-role", "--email", owner, "--role", "staff", "--database-url", database_url
    )
    assert refused.exit_code == 2 and "needs an active owner" in refused.output
    promoted = await run_cli(
        "user", "set-role", "--email", staff, "--role", "OWNER", "--database-url", database_url
    )
    assert promoted.exit_code == 0 and "role:         owner" in promoted.output
    demoted = await run_cli(
        "user", "set-role", "--email", owner, "--role", "read-only", "--database-url", database_url
    )
    assert demoted.exit_code == 0
    roles = {a.email: a.role for a in await accounts.list_accounts(db, org)}
    assert roles == {owner: Role.READ_ONLY, staff: Role.OWNER}


async def test_disable_ends_the_sessions_and_enable_lets_the_person_back(
    database_url: str, db: Database
) -> None:
    org, owner, staff = str(uuid.uuid4()), email(), email()
    assert (await create(database_url, org, owner)).exit_code == 0
    assert (await create(database_url, org, staff)).exit_code == 0
    session_id = secrets.token_urlsafe(16)
    opened = await accounts.sign_in(db, staff, PASSWORD, session_id=session_id, ttl_s=60, now_ms=now_ms())
    assert opened.account is not None
    assert await accounts.session_account(db, session_id, org, opened.account.uuid) is not None
    result = await run_cli("user", "disable", "--email", staff, "--database-url", database_url)
    assert result.exit_code == 0 and "status:       disabled" in result.output
    assert await accounts.session_account(db, session_id, org, opened.account.uuid) is None
    assert (await signs_in(db, staff)).disabled
    last_owner = await run_cli("user", "disable", "--email", owner, "--database-url", database_url)
    assert last_owner.exit_code == 2
    result = await run_cli("user", "enable", "--email", staff, "--database-url", database_url)
    assert result.exit_code == 0 and "status:       active" in result.output
    assert (await signs_in(db, staff)).account is not None
    unknown = await run_cli("user", "enable", "--email", email(), "--database-url", database_url)
    assert unknown.exit_code == 2 and "No account has the e-mail address" in unknown.output
