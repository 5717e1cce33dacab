"""Back-office accounts: roles and what each may do, the rules of e-mails, names and passwords, lock-out."""

from __future__ import annotations

import secrets
from enum import StrEnum

from stockledger.domain.organization import MAX_NAME_CHARS, parse_email
from stockledger.domain.text import NUL


class Role(StrEnum):
    OWNER = "owner"  # everything, including the organization's settings, webhooks and its people
    STAFF = "staff"  # the stock: adjust, count, stocktake, low-stock levels
    READ_ONLY = "read-only"  # looks, changes nothing


class Permission(StrEnum):
    """What a page or form needs; every page route checks one (tests/web/test_roles.py)."""

    VIEW = "view"  # stock, variant history, low stock, settings (read)
    STOCK = "stock"  # adjust, counts, stocktakes, low-stock levels
    SETTINGS = "settings"  # save the organization's profile
    WEBHOOKS = "webhooks"  # see subscriptions and their deliveries, redeliver
    PEOPLE = "people"  # add people, change their role, disable, reset a password


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READ_ONLY: frozenset({Permission.VIEW}),
    Role.STAFF: frozenset({Permission.VIEW, Permission.STOCK}),
    Role.OWNER: frozenset(Permission),
}

# The scopes a person's actions carry into the services (the same names as an API key's scopes).
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.READ_ONLY: frozenset({"READ:PRODUCT"}),
    Role.STAFF: frozenset({"READ:PRODUCT", "WRITE:PRODUCT"}),
    Role.OWNER: frozenset({"READ:PRODUCT", "WRITE:PRODUCT", "READ:PURCHASE"}),
}


def key_permissions(scopes: frozenset[str]) -> frozenset[Permission]:
    """An API-key session (when STOCKLEDGER_UI_API_KEY_SIGNIN allows them) may do what its scopes
    allow, as before there were accounts; managing people always takes a person."""
    allowed: set[Permission] = set()
    if "READ:PRODUCT" in scopes:
        allowed.add(Permission.VIEW)
    if "WRITE:PRODUCT" in scopes:
        allowed |= {Permission.STOCK, Permission.SETTINGS}
    if scopes & {"READ:PRODUCT", "READ:PURCHASE"}:
        allowed.add(Permission.WEBHOOKS)
    return frozenset(allowed)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError("must be one of " + ", ".join(r.value for r in Role)) from None


# A person's actions are recorded in the ledger's `actor` column as PERSON:<account uuid>; pages and
# the history API show the account's name beside it.
PERSON_ACTOR_PREFIX = "PERSON:"

MIN_PASSWORD_CHARS = 10  # NIST SP 800-63B asks for at least 8; passphrases are welcome
MAX_PASSWORD_CHARS = 1024  # a bound on what is hashed, far above any real password
MAX_FAILED_SIGNINS = 5  # consecutive wrong passwords that lock an account...
LOCKOUT_MS = 15 * 60 * 1000  # ...for this long; the count starts again afterwards
TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
TEMPORARY_PASSWORD_GROUPS = 4  # 4 groups of 4: about 79 bits


def person_actor(account_uuid: str) -> str:
    return PERSON_ACTOR_PREFIX + account_uuid


def account_of_actor(actor: str | None) -> str | None:
    """The account UUID of a ledger actor written by a signed-in person, else None."""
    if actor and actor.startswith(PERSON_ACTOR_PREFIX):
        return actor[len(PERSON_ACTOR_PREFIX) :]
    return None


def normalize_email(value: str) -> str:
    """The form an e-mail is stored and looked up in: one account per address, whatever its case."""
    return value.strip().lower()


def parse_account_email(value: str) -> str:
    return normalize_email(parse_email(value))


def parse_person_name(value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > MAX_NAME_CHARS or NUL in name:
        raise ValueError(f"must be 1 to {MAX_NAME_CHARS} characters")
    return name


def check_password(value: str) -> str:
    """A new password: long enough to resist guessing; any characters (spaces too) are kept as typed."""
    if NUL in value:
        raise ValueError("must not contain the NUL character")
    if len(value) < MIN_PASSWORD_CHARS:
        raise ValueError(f"must be at least {MIN_PASSWORD_CHARS} characters long")
    if len(value) > MAX_PASSWORD_CHARS:
        raise ValueError(f"must be at most {MAX_PASSWORD_CHARS} characters long")
    return value


def temporary_password() -> str:
    """A random password an owner hands to a new person, who must replace it at first sign-in."""
    groups = (
        "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(4))
        for _ in range(TEMPORARY_PASSWORD_GROUPS)
    )
    return "-".join(groups)


def locked_until(locked_until_ms: int | None, now_ms: int) -> int | None:
    """When the lock-out ends, if one is in force now."""
    return locked_until_ms if locked_until_ms is not None and locked_until_ms > now_ms else None
