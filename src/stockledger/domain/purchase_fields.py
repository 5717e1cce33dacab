"""What a recorded purchase keeps beside its movements, for the Purchase API (product-library-api §6). Pure.

The purchase's time (its keyset position), its receipt number and the purchase a refund refunds are
read from the document when it states them with their documented types; anything else in the
document is left to the reader (domain/purchase_view.py), and a field of the wrong type counts as
absent: recording a sale never fails for a field that moves no stock.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from stockledger.domain.ids import canonical_uuid

# The instants ISO 8601's four-digit years can write (and every client's date type can hold).
MIN_TIMESTAMP_MS = 0
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
# Receipt numbers and money are 64-bit integers in every reader (PHP's int, a BIGINT column).
MAX_INTEGER = 2**63 - 1

B64_UUID_CHARS = 22  # 16 bytes in URL-safe base64 without padding
_B64_UUID = re.compile(r"[A-Za-z0-9_-]{22}")
# PHP's date('c') in a query string whose `+` was not percent-encoded arrives as a space.
_SPACED_OFFSET = re.compile(r"(T\d{2}(?::?\d{2}){0,2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)$")

# Where refunds name the purchase they refund: the v2 object's fields, the Pusher payload's
# `refundsPurchaseUuid`, and the same names under `references` (as points of sale also send them).
_REFUND_LINK_KEYS = ("refundsPurchaseUUID1", "refundsPurchaseUuid", "refundsPurchaseUUID")


def integer(value: Any) -> int | None:
    """A JSON integer (or an integral decimal such as 12300.0) within 64 bits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        value = int(value)
    if isinstance(value, int) and -MAX_INTEGER <= value <= MAX_INTEGER:
        return value
    return None


def uuid_b64(value: str) -> str:
    """The 22-character form Zettle calls `purchaseUUID`: URL-safe base64 of the UUID's 16 bytes."""
    return base64.urlsafe_b64encode(uuid.UUID(value).bytes).decode().rstrip("=")


def uuid_from_b64(text: str) -> str | None:
    """The canonical UUID of a 22-character `purchaseUUID`, or None."""
    if not _B64_UUID.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 or base64.urlsafe_b64encode(raw).decode().rstrip("=") != text:
        return None  # trailing bits set: not the spelling of any UUID
    return str(uuid.UUID(bytes=raw))


def any_uuid(value: Any) -> str | None:
    """A UUID in either form a purchase names one: canonical text, or the 22-character base64."""
    if not isinstance(value, str):
        return None
    return canonical_uuid(value) or uuid_from_b64(value)


def instant_ms(text: str, *, round_up: bool = False) -> int | None:
    """ISO 8601 text (a date, a time with or without seconds and fractions, an offset `Z`, `+00:00`
    or `+0000`; none means UTC) → epoch milliseconds; None when it is not one or out of range.
    Sub-millisecond digits are dropped, or with `round_up` rounded up to the next millisecond."""
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        seconds = math.floor(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        return None
    micros = moment.microsecond
    ms = seconds * 1000 + (-(-micros // 1000) if round_up else micros // 1000)
    return ms if MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS else None


def timestamp_ms(document: dict[str, Any]) -> int | None:
    """The purchase's own time: `timestamp` as epoch milliseconds (the Pusher payload) or ISO text
    (the v2 object), else `created`; None when neither is usable."""
    stamp = document.get("timestamp")
    ms = instant_ms(stamp) if isinstance(stamp, str) else integer(stamp)
    if ms is None or not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        created = document.get("created")
        ms = instant_ms(created) if isinstance(created, str) else None
    return ms


def refunded_purchase(document: dict[str, Any], purchase_uuid: str) -> str | None:
    """The purchase this one refunds, when the document names one (never itself)."""
    references = document.get("references")
    for holder in (document, references if isinstance(references, dict) else {}):
        for key in _REFUND_LINK_KEYS:
            found = any_uuid(holder.get(key))
            if found is not None and found != purchase_uuid:
                return found
    return None


@dataclass(frozen=True)
class RecordedFields:
    """Stored with the purchase when the document states them: its time (None: the recording
    time), its receipt number (None: the organization's next one) and the purchase a refund refunds."""

    timestamp_ms: int | None
    purchase_number: int | None
    refunds_purchase_uuid: str | None


def recorded_fields(document: dict[str, Any], purchase_uuid: str) -> RecordedFields:
    """What the Purchase API needs indexed, from a validated purchase document."""
    number = integer(document.get("purchaseNumber"))
    return RecordedFields(
        timestamp_ms=timestamp_ms(document),
        purchase_number=number if number is not None and number >= 0 else None,
        refunds_purchase_uuid=refunded_purchase(document, purchase_uuid),
    )
