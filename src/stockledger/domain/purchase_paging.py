"""The query of `GET /purchases/v2` and its paging hashes (product-library-api §6.1). Pure.

Purchases are ordered by (timestamp, UUID), a total order: a page continues strictly after the
position its hash names, so purchases recorded while a client pages never shift a page (keyset
paging; nothing is seen twice or skipped among what existed), and a purchase whose timestamp is
after the hash appears on a later page whenever it is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from stockledger.domain.errors import ServiceError, Violation, validation_error
from stockledger.domain.purchase_fields import (
    B64_UUID_CHARS,
    MAX_TIMESTAMP_MS,
    instant_ms,
    uuid_b64,
    uuid_from_b64,
)

# Zettle's range; also this service's default, because the two clients that never page ask
# without a limit and expect everything (§8 Q1).
MIN_LIMIT, MAX_LIMIT = 1, 1000
DEFAULT_LIMIT = MAX_LIMIT
HISTORY_YEARS = 3  # Zettle serves purchases up to three years old; the default startDate
# The parameters a next-page link repeats, in the order Zettle's links list them.
REPEATED_PARAMETERS = ("limit", "startDate", "endDate", "descending")
_HASH = re.compile(rf"(\d{{1,15}})([A-Za-z0-9_-]{{{B64_UUID_CHARS}}})")


def purchase_hash(timestamp_ms: int, purchase_uuid: str) -> str:
    """The purchase's position: its timestamp in epoch milliseconds, then its 22-character UUID
    (what Zettle's `firstPurchaseHash`/`lastPurchaseHash` are made of)."""
    return f"{timestamp_ms}{uuid_b64(purchase_uuid)}"


def parse_hash(text: str) -> tuple[int, str] | None:
    """(timestamp_ms, purchase UUID) of a hash, or None when it is not one."""
    match = _HASH.fullmatch(text)
    if match is None:
        return None
    purchase_uuid = uuid_from_b64(match.group(2))
    ms = int(match.group(1))
    if purchase_uuid is None or ms > MAX_TIMESTAMP_MS:
        return None
    return ms, purchase_uuid


@dataclass(frozen=True)
class PurchaseQuery:
    """A validated `GET /purchases/v2`: purchases with start_ms <= timestamp < end_ms, after the
    position `after` (in the query's order), at most `limit` of them."""

    start_ms: int
    end_ms: int
    limit: int
    descending: bool
    after: tuple[int, str] | None
    repeated: tuple[tuple[str, str], ...]  # the caller's parameters a next-page link repeats


def years_before(ms: int, years: int) -> int:
    """The same instant `years` calendar years earlier (29 February becomes the 28th)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    try:
        earlier = moment.replace(year=moment.year - years)
    except ValueError:
        earlier = moment.replace(year=moment.year - years, day=28)
    return int(earlier.timestamp() * 1000)


def _date(params: Mapping[str, str], name: str, violations: list[Violation]) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    # A bound's sub-millisecond digits round up: the start is inclusive and the end exclusive, so
    # a purchase at 10:00:00.123 is before 10:00:00.1234 and not from it.
    ms = instant_ms(value, round_up=True)
    if ms is None:
        violations.append(Violation(name, "must be an ISO 8601 date or date-time, e.g. 2024-05-01T10:00:00Z"))
    return ms


def _limit(params: Mapping[str, str], violations: list[Violation]) -> int:
    value = params.get("limit")
    if value is None:
        return DEFAULT_LIMIT
    text = value.strip()
    # Length first: int() of thousands of digits is refused by Python itself (and slow).
    if (
        len(text) > len(str(MAX_LIMIT))
        or not text.isascii()
        or not text.isdigit()
        or not MIN_LIMIT <= int(text) <= MAX_LIMIT
    ):
        violations.append(Violation("limit", f"must be an integer from {MIN_LIMIT} to {MAX_LIMIT}"))
        return DEFAULT_LIMIT
    return int(text)


def _descending(params: Mapping[str, str], violations: list[Violation]) -> bool:
    value = params.get("descending")
    if value is None:
        return False
    if value.strip().lower() not in ("true", "false"):  # Python clients send True and False
        violations.append(Violation("descending", "must be true or false"))
        return False
    return value.strip().lower() == "true"


def parse_query(params: Mapping[str, str], now_ms: int) -> PurchaseQuery:
    """Validate the query parameters; every bad one is named (400), unknown ones are ignored."""
    violations: list[Violation] = []
    start = _date(params, "startDate", violations)
    end = _date(params, "endDate", violations)
    limit = _limit(params, violations)
    descending = _descending(params, violations)
    after = None
    if params.get("lastPurchaseHash") is not None:
        after = parse_hash(params["lastPurchaseHash"].strip())
        if after is None:
            violations.append(Violation("lastPurchaseHash", "is not a purchase hash of this service"))
    start_ms = years_before(now_ms, HISTORY_YEARS) if start is None else start
    end_ms = now_ms if end is None else end
    if not violations and end is not None and start_ms > end_ms:
        violations.append(Violation("endDate", "must not be before startDate"))
    if violations:
        raise validation_error(violations)
    repeated = tuple((name, params[name]) for name in REPEATED_PARAMETERS if params.get(name) is not None)
    return PurchaseQuery(start_ms, end_ms, limit, descending, after, repeated)


def unknown_hash() -> ServiceError:
    """A well-formed hash that names no purchase of the organization at that time."""
    return validation_error([Violation("lastPurchaseHash", "names no purchase of this organization")])
