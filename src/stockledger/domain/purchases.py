"""Purchase documents of a point of sale (spec §9): validation and the movements a sale implies. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stockledger.domain.changes import Change
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import QuantityError, format_units, parse_quantity, to_units


class SkipReason(StrEnum):
    """Why a line of a purchase moved no stock."""

    NO_PRODUCT = "NO_PRODUCT"  # a custom amount, a service fee: nothing in stock to move
    NOT_TRACKED = "NOT_TRACKED"  # the merchant does not track this product's stock
    ZERO_QUANTITY = "ZERO_QUANTITY"  # a movement always moves a positive quantity


@dataclass(frozen=True)
class PurchaseLine:
    """One entry of `products`, validated; `quantity` is signed as the point of sale sent it."""

    index: int
    product_uuid: str | None
    variant_uuid: str | None
    quantity: Decimal | None
    from_location: str | None
    to_location: str | None

    @property
    def path(self) -> str:
        return f"products[{self.index}]"


@dataclass(frozen=True)
class Purchase:
    purchase_uuid: str
    user_uuid: str | None
    refund: bool
    lines: list[PurchaseLine]


@dataclass(frozen=True)
class SkippedLine:
    index: int
    product_uuid: str | None
    reason: SkipReason

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"index": self.index}
        if self.product_uuid is not None:
            entry["productUuid"] = self.product_uuid
        entry["reason"] = self.reason.value
        return entry


@dataclass(frozen=True)
class PurchasePlan:
    """What recording a purchase does: `changes[i]` moves the stock of line `applied_index[i]`."""

    changes: list[Change]
    applied_index: list[int]
    skipped: list[SkippedLine]

    def result(self, purchase_uuid: str) -> dict[str, Any]:
        """The answer of every submission of this purchase (stored, replayed on a second submission)."""
        return {
            "purchaseUuid": purchase_uuid,
            "applied": [
                {
                    "index": index,
                    "productUuid": change.product_uuid,
                    "variantUuid": change.variant_uuid,
                    "fromLocationUuid": change.from_location,
                    "toLocationUuid": change.to_location,
                    "change": format_units(change.units),
                }
                for index, change in zip(self.applied_index, self.changes, strict=True)
            ],
            "skipped": [line.to_json() for line in self.skipped],
        }


def _uuid_field(
    obj: dict[str, Any], key: str, path: str, violations: list[Violation], *, required: bool = False
) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            violations.append(Violation(path, "must not be null"))
        return None
    canonical = canonical_uuid(value)
    if canonical is None:
        violations.append(Violation(path, "must be a UUID"))
    return canonical


def _parse_line(index: int, raw: Any, violations: list[Violation]) -> PurchaseLine | None:
    path = f"products[{index}]"
    if not isinstance(raw, dict):
        violations.append(Violation(path, "must be a JSON object"))
        return None
    product = _uuid_field(raw, "productUuid", f"{path}.productUuid", violations)
    # A variant is what holds stock: a product line without one cannot be moved.
    variant = _uuid_field(
        raw, "variantUuid", f"{path}.variantUuid", violations, required=raw.get("productUuid") is not None
    )
    quantity: Decimal | None = None
    raw_quantity = raw.get("quantity")
    if raw_quantity is None:
        if raw.get("productUuid") is not None:
            violations.append(Violation(f"{path}.quantity", "must not be null"))
    else:
        try:
            quantity = parse_quantity(raw_quantity)
        except QuantityError as exc:
            violations.append(Violation(f"{path}.quantity", str(exc)))
    from_location = _uuid_field(raw, "fromLocationUuid", f"{path}.fromLocationUuid", violations)
    to_location = _uuid_field(raw, "toLocationUuid", f"{path}.toLocationUuid", violations)
    return PurchaseLine(index, product, variant, quantity, from_location, to_location)


def parse_purchase(document: Any, *, max_lines: int) -> Purchase:
    """Validate a purchase document; every offending property is named, nothing else is looked at.

    Fields a point of sale sends beyond these (amounts, payments, taxes, …) are accepted and ignored.
    """
    if not isinstance(document, dict):
        raise validation_error([Violation("", "must be a JSON object")])
    violations: list[Violation] = []
    purchase_uuid = _uuid_field(document, "purchaseUuid", "purchaseUuid", violations, required=True)
    user_uuid = _uuid_field(document, "userUuid", "userUuid", violations)
    refund = document.get("refund")
    if refund is None:
        refund = False
    elif not isinstance(refund, bool):
        violations.append(Violation("refund", "must be a boolean"))
    lines: list[PurchaseLine] = []
    raw_lines = document.get("products")
    if raw_lines is None:
        violations.append(Violation("products", "must not be null"))
    elif not isinstance(raw_lines, list):
        violations.append(Violation("products", "must be an array"))
    elif len(raw_lines) > max_lines:
        violations.append(Violation("products", f"must contain at most {max_lines} lines"))
    else:
        for index, raw in enumerate(raw_lines):
            line = _parse_line(index, raw, violations)
            if line is not None:
                lines.append(line)
    if violations:
        raise validation_error(violations)
    assert purchase_uuid is not None
    return Purchase(purchase_uuid, user_uuid, bool(refund), lines)


def _sale_ends(line: PurchaseLine, store: str, sold: str) -> tuple[str, str]:
    """Where a sale of this line takes stock from and puts it: the line's own, else STORE → SOLD."""
    return line.from_location or store, line.to_location or sold


def plan_purchase(
    purchase: Purchase, *, tracked: set[str], known_locations: set[str], store: str, sold: str
) -> PurchasePlan:
    """The movements of a purchase against the organization's current state.

    A sale moves |quantity| from → to; a reversal (a refund, a negative quantity, or both: it is the
    same reversal said twice) moves it back to → from. Unknown or equal locations → 400.
    """
    violations: list[Violation] = []
    for line in purchase.lines:
        for name, value in (("fromLocationUuid", line.from_location), ("toLocationUuid", line.to_location)):
            if value is not None and value not in known_locations:
                violations.append(Violation(f"{line.path}.{name}", "unknown location"))
        source, destination = _sale_ends(line, store, sold)
        if (line.from_location or line.to_location) and source == destination:
            violations.append(Violation(f"{line.path}.toLocationUuid", "must differ from fromLocationUuid"))
    if violations:
        raise validation_error(violations)

    changes: list[Change] = []
    applied_index: list[int] = []
    skipped: list[SkippedLine] = []
    for line in purchase.lines:
        if line.product_uuid is None or line.variant_uuid is None:
            skipped.append(SkippedLine(line.index, None, SkipReason.NO_PRODUCT))
            continue
        if line.quantity is None or line.quantity == 0:
            skipped.append(SkippedLine(line.index, line.product_uuid, SkipReason.ZERO_QUANTITY))
            continue
        if line.product_uuid not in tracked:
            skipped.append(SkippedLine(line.index, line.product_uuid, SkipReason.NOT_TRACKED))
            continue
        source, destination = _sale_ends(line, store, sold)
        if purchase.refund or line.quantity < 0:
            source, destination = destination, source
        units = to_units(abs(line.quantity))
        changes.append(Change(line.product_uuid, line.variant_uuid, source, destination, units, line.path))
        applied_index.append(line.index)
    return PurchasePlan(changes, applied_index, skipped)


# Real purchase documents nest a handful of levels; the limit keeps re-publishing (and the JSON
# encoder's own recursion limit) far away from any document a point of sale sends.
MAX_DOCUMENT_DEPTH = 64


def publishable(document: Any, depth: int = 0) -> Any:
    """The document as plain JSON values for re-publishing: exact decimals become JSON numbers again.

    A document nested deeper than MAX_DOCUMENT_DEPTH → 400 (it cannot be a purchase of a till).
    """
    if depth > MAX_DOCUMENT_DEPTH:
        raise validation_error([Violation("", f"must not be nested deeper than {MAX_DOCUMENT_DEPTH} levels")])
    if isinstance(document, dict):
        return {key: publishable(value, depth + 1) for key, value in document.items()}
    if isinstance(document, list):
        return [publishable(value, depth + 1) for value in document]
    if isinstance(document, Decimal):
        return float(document)
    return document
