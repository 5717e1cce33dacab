"""Back-office accounts: create, sign in (with lock-out), change password and role, disable, enable.

Every change is one transaction; a refused change changes nothing. An organization keeps at least
one active owner: its first account is one, and the last one can be neither demoted nor disabled.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import accounts as rules
from stockledger.domain.accounts import Role
from stockledger.domain.errors import ServiceError, Violation, not_found, validation_error
from stockledger.service import organizations, passwords
from stockledger.store import orgs, ui_sessions, users
from stockledger.store.db import Database
from stockledger.store.sql import now_ms as wall_clock_ms
from stockledger.store.users import UserRecord

EMAIL_TAKEN = "An account with this e-mail address exists already."
LAST_OWNER = (
    "The organization needs an active owner: make another account owner first "
    "(or create one), then change this one."
)
FIRST_IS_OWNER = "The first account of an organization must be an owner."


@dataclass(frozen=True)
class Account:
    """An account as callers see it: never its password hash."""

    org_uuid: str
    uuid: str
    email: str
    name: str
    role: Role
    must_change_password: bool
    failed_attempts: int
    locked_until_ms: int | None
    disabled_ms: int | None
    created_ms: int
    updated_ms: int

    @property
    def disabled(self) -> bool:
        return self.disabled_ms is not None

    def locked_until(self, now_ms: int) -> int | None:
        return rules.locked_until(self.locked_until_ms, now_ms)


def account_of(record: UserRecord) -> Account:
    return Account(
        record.org_uuid,
        record.uuid,
        record.email,
        record.name,
        Role(record.role),
        record.must_change_password,
        record.failed_attempts,
        record.locked_until_ms,
        record.disabled_ms,
        record.created_ms,
        record.updated_ms,
    )


def _checked(field: str, parse: object, value: str, violations: list[Violation]) -> str:
    assert callable(parse)
    try:
        return str(parse(value))
    except ValueError as exc:
        violations.append(Violation(field, str(exc)))
        return value


def check_new_account(email: str, name: str, password: str) -> tuple[str, str]:
    """The e-mail (lower-case) and name of a new account, or 400 naming each bad field."""
    violations: list[Violation] = []
    email = _checked("email", rules.parse_account_email, email, violations)
    name = _checked("name", rules.parse_person_name, name, violations)
    _checked("password", rules.check_password, password, violations)
    if violations:
        raise validation_error(violations)
    return email, name


async def create(
    db: Database,
    org: str,
    *,
    email: str,
    name: str,
    password: str,
    role: Role | None = None,
    must_change_password: bool = False,
) -> Account:
    """A new account; without `role`, the organization's first account is its owner and later ones
    are staff. An e-mail already in use (in any organization) → 409."""
    email, name = check_new_account(email, name, password)
    password_hash = await passwords.hash_password_async(password)
    await organizations.ensure(db, org)
    now = wall_clock_ms()

    async def work(conn: AsyncConnection) -> Account:
        await orgs.lock(conn, org)  # two first accounts created at once: one of them is the owner
        first = await users.count_users(conn, org) == 0
        chosen = role or (Role.OWNER if first else Role.STAFF)
        if first and chosen != Role.OWNER:
            raise validation_error([Violation("role", FIRST_IS_OWNER)])
        if await users.by_email(conn, email) is not None:
            raise ServiceError(EMAIL_TAKEN, 409, "CONFLICT", [Violation("email", EMAIL_TAKEN)])
        record = UserRecord(
            org, str(uuid_module.uuid4()), email, name, password_hash, chosen.value,
            must_change_password, 0, None, None, now, now,
        )  # fmt: skip
        await users.insert_user(conn, record)
        return account_of(record)

    try:
        return await db.write(work)
    except IntegrityError:  # the same e-mail created by a concurrent request
        raise ServiceError(EMAIL_TAKEN, 409, "CONFLICT", [Violation("email", EMAIL_TAKEN)]) from None


async def list_accounts(db: Database, org: str | None = None) -> list[Account]:
    async def work(conn: AsyncConnection) -> list[Account]:
        return [account_of(r) for r in await users.list_users(conn, org)]

    return await db.read(work)


async def by_email(db: Database, email: str) -> Account:
    """The account of the e-mail (any letter case), or 404."""

    async def work(conn: AsyncConnection) -> UserRecord | None:
        return await users.by_email(conn, rules.normalize_email(email))

    record = await db.read(work)
    if record is None:
        raise not_found(f"No account has the e-mail address {email.strip()}.")
    return account_of(record)


async def get(db: Database, org: str, account_uuid: str) -> Account:
    async def work(conn: AsyncConnection) -> UserRecord | None:
        return await users.by_uuid(conn, org, account_uuid)

    record = await db.read(work)
    if record is None:
        raise not_found("There is no such account in this organization.")
    return account_of(record)


async def _owners_left_after(conn: AsyncConnection, org: str, account_uuid: str) -> int:
    return len([u for u in await users.active_owners(conn, org, Role.OWNER.value) if u != account_uuid])


async def set_role(db: Database, org: str, account_uuid: str, role: Role) -> Account:
    """Change the role (effective on the account's next request); the last active owner keeps it."""

    async def work(conn: AsyncConnection) -> Account:
        await orgs.lock(conn, org)
        record = await users.by_uuid(conn, org, account_uuid)
        if record is None:
            raise not_found("There is no such account in this organization.")
        demoted = record.role == Role.OWNER.value and role != Role.OWNER and record.disabled_ms is None
        if demoted and await _owners_left_after(conn, org, account_uuid) == 0:
            raise ServiceError(LAST_OWNER, 409, "CONFLICT", [Violation("role", LAST_OWNER)])
        now = wall_clock_ms()
        await users.change(conn, org, account_uuid, now, role=role.value)
        return account_of(await _reread(conn, org, account_uuid))

    return await db.write(work)


async def disable(db: Database, org: str, account_uuid: str) -> Account:
    """The account can no longer sign in, and its open sessions end at once."""

    async def work(conn: AsyncConnection) -> Account:
        await orgs.lock(conn, org)
        record = await users.by_uuid(conn, org, account_uuid)
        if record is None:
            raise not_found("There is no such account in this organization.")
        if record.disabled_ms is not None:
            return account_of(record)
        if record.role == Role.OWNER.value and await _owners_left_after(conn, org, account_uuid) == 0:
            raise ServiceError(LAST_OWNER, 409, "CONFLICT", [Violation("role", LAST_OWNER)])
        now = wall_clock_ms()
        await users.change(conn, org, account_uuid, now, disabled_ms=now)
        await ui_sessions.remove_for_user(conn, org, account_uuid)
        return account_of(await _reread(conn, org, account_uuid))

    return await db.write(work)


async def enable(db: Database, org: str, account_uuid: str) -> Account:
    """Active again, and any lock-out lifted (this is also how an operator unlocks an account early)."""

    async def work(conn: AsyncConnection) -> Account:
        now = wall_clock_ms()
        changed = await users.change(
            conn, org, account_uuid, now, disabled_ms=None, failed_attempts=0, locked_until_ms=None
        )
        if not changed:
            raise not_found("There is no such account in this organization.")
        return account_of(await _reread(conn, org, account_uuid))

    return await db.write(work)


async def set_password(
    db: Database,
    org: str,
    account_uuid: str,
    password: str,
    *,
    must_change: bool,
    keep_session: str | None = None,
) -> Account:
    """A new password (an operator's or owner's reset when `must_change`, else the person's own):
    the lock-out is lifted and every other session of the account ends."""
    violations: list[Violation] = []
    _checked("password", rules.check_password, password, violations)
    if violations:
        raise validation_error(violations)
    password_hash = await passwords.hash_password_async(password)

    async def work(conn: AsyncConnection) -> Account:
        now = wall_clock_ms()
        changed = await users.change(
            conn, org, account_uuid, now,
            password_hash=password_hash, must_change_password=must_change,
            failed_attempts=0, locked_until_ms=None,
        )  # fmt: skip
        if not changed:
            raise not_found("There is no such account in this organization.")
        await ui_sessions.remove_for_user(conn, org, account_uuid, keep=keep_session)
        return account_of(await _reread(conn, org, account_uuid))

    return await db.write(work)


async def _reread(conn: AsyncConnection, org: str, account_uuid: str) -> UserRecord:
    record = await users.by_uuid(conn, org, account_uuid)
    assert record is not None
    return record


# ---- signing in ----


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: an account whose session is open, or why not."""

    account: Account | None = None
    locked_until_ms: int | None = None  # the account is locked (now, or by this very failure)
    disabled: bool = False  # the right password of a disabled account


async def sign_in(
    db: Database, email: str, password: str, *, session_id: str, ttl_s: int, now_ms: int
) -> SignIn:
    """Check the password and open the session. A wrong password and an unknown e-mail take the same
    path (a hash is verified, the same failure statement runs) and come to the same answer; the
    MAX_FAILED_SIGNINS-th wrong password in a row locks the account for LOCKOUT_MS."""
    email = rules.normalize_email(email)
    if len(password) > rules.MAX_PASSWORD_CHARS:
        password = ""  # never a valid password: refused after the same work as any other

    async def find(conn: AsyncConnection) -> UserRecord | None:
        return await users.by_email(conn, email)

    record = await db.read(find)
    if record is not None and (until := rules.locked_until(record.locked_until_ms, now_ms)) is not None:
        return SignIn(locked_until_ms=until)
    verdict = await passwords.verify_password_async(record.password_hash if record else None, password)
    if not verdict.ok:

        async def fail(conn: AsyncConnection) -> int | None:
            return await users.record_failure(
                conn, email, now_ms, max_failures=rules.MAX_FAILED_SIGNINS, lockout_ms=rules.LOCKOUT_MS
            )

        return SignIn(locked_until_ms=await db.write(fail))
    assert record is not None
    if record.disabled_ms is not None:
        return SignIn(disabled=True)
    new_hash = await passwords.hash_password_async(password) if verdict.needs_rehash else None

    async def succeed(conn: AsyncConnection) -> SignIn:
        current = await users.record_success(conn, record.org_uuid, record.uuid, now_ms, new_hash)
        if current is None:  # locked or disabled by another request while the hash was checked
            again = await users.by_uuid(conn, record.org_uuid, record.uuid)
            if again is None or again.disabled_ms is not None:
                return SignIn(disabled=True)
            return SignIn(locked_until_ms=rules.locked_until(again.locked_until_ms, now_ms))
        await ui_sessions.purge_expired(conn, now_ms)  # sign-ins are rare: they tidy up
        await ui_sessions.insert_session(
            conn, session_id, record.org_uuid, now_ms, now_ms + ttl_s * 1000, user_uuid=record.uuid
        )
        return SignIn(account_of(current))

    return await db.write(succeed)


async def session_account(
    db: Database, session_id: str, org: str, account_uuid: str, now_ms: int | None = None
) -> Account | None:
    """The session's account when the session is open and unexpired and the account is active."""
    at = wall_clock_ms() if now_ms is None else now_ms

    async def lookup(conn: AsyncConnection) -> UserRecord | None:
        return await ui_sessions.active_user(conn, session_id, org, account_uuid, at)

    record = await db.read(lookup)
    return account_of(record) if record else None


async def change_own_password(
    db: Database, account: Account, current: str, new: str, *, session_id: str, now_ms: int
) -> str | None:
    """The person's own change: the current password must be right (a wrong one counts towards the
    lock-out, and a lock ends every session). None when changed, else what to tell them."""
    try:
        rules.check_password(new)
    except ValueError as exc:
        return f"The new password {exc}."
    if new == current:
        return "Choose a new password different from the current one."

    async def find(conn: AsyncConnection) -> UserRecord | None:
        return await users.by_uuid(conn, account.org_uuid, account.uuid)

    record = await db.read(find)
    if record is None:
        raise not_found("There is no such account in this organization.")
    verdict = await passwords.verify_password_async(record.password_hash, current[: rules.MAX_PASSWORD_CHARS])
    if not verdict.ok:

        async def fail(conn: AsyncConnection) -> int | None:
            until = await users.record_failure(
                conn, record.email, now_ms, max_failures=rules.MAX_FAILED_SIGNINS, lockout_ms=rules.LOCKOUT_MS
            )
            if until is not None:
                await ui_sessions.remove_for_user(conn, record.org_uuid, record.uuid)
            return until

        await db.write(fail)
        return "The current password is not right."
    await set_password(db, account.org_uuid, account.uuid, new, must_change=False, keep_session=session_id)
    return None


# ---- names of people in the ledger ----


async def actor_names(conn: AsyncConnection, org: str, actors: Iterable[str | None]) -> dict[str, str]:
    """Ledger actor → the name of the person behind it, for the actors written from the back office."""
    by_account: dict[str, str] = {}
    for actor in actors:
        account = rules.account_of_actor(actor)
        if account is not None and actor is not None:
            by_account[account] = actor
    names = await users.names_of(conn, org, set(by_account))
    return {by_account[a]: name for a, name in names.items()}
