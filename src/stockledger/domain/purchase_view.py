"""The Purchase API v2 object of a recorded purchase (product-library-api §6.3). Pure.

Built from the document as the point of sale sent it. Every documented key is present: `null` for an
absent object or scalar, `[]` for an absent list, never `{}` in place of an absent object. Money is
always a JSON integer in minor units; a line's quantity is always a string. What the document does
not state is derived (`groupedVatAmounts`, `rowTaxableAmount`, `refund`, `libraryProduct`, …) or
takes the documented default (`amount`/`vatAmount` 0, §8 Q2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from stockledger.domain.event_payloads import payload_timestamp
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.purchase_fields import MAX_INTEGER, instant_ms, integer, uuid_b64
from stockledger.domain.quantity import QuantityError, format_units, parse_quantity, to_units

LINE_TYPES = ("PRODUCT", "CUSTOM_AMOUNT", "GIFTCARD")
DEFAULT_SOURCE = "POS"  # stockledger's own intake is a point of sale's
HUNDRED = Decimal(100)
# Money arithmetic on 64-bit amounts times 15-digit quantities needs more than Decimal's 28 digits.
_PRECISION = 60


@dataclass(frozen=True)
class OrgFacts:
    """What the organization contributes: defaults for the document's country and currency, and the
    numeric organization id `GET /api/resources/organizations/self` answers."""

    country: str
    currency: str
    organization_id: int
    taxation_mode: str  # INCLUSIVE: unit prices include VAT


@dataclass(frozen=True)
class StoredPurchase:
    """A recorded purchase as the store keeps it (document parsed with exact decimals)."""

    purchase_uuid: str
    document: dict[str, Any] | None  # None: recorded before documents were kept, and not recovered
    result: dict[str, Any]  # the recording's answer: which lines moved stock, between which locations
    timestamp_ms: int
    purchase_number: int
    refunds_purchase_uuid: str | None
    refunded_by: Sequence[str] = ()  # refunds naming this purchase, in time order


def _plain(value: Any) -> Any:
    """Passed-through JSON with exact decimals made JSON numbers again (integral ones integers)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        whole = integer(value)
        return whole if whole is not None else float(value)
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None


def _number_out(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    whole = integer(value)
    return whole if whole is not None else float(value)


def _text(value: Any) -> str | None:
    """A string field; a number some points of sale send for it (a barcode) becomes its digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return str(value) if isinstance(value, int) else format(value, "f")


def _flag(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _object(value: Any) -> Any:
    return _plain(value) if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return _plain(value) if isinstance(value, list) else []


def _money_out(value: Decimal | None) -> int | None:
    """A computed amount rounded half away from zero; None beyond what readers hold in 64 bits."""
    if value is None:
        return None
    with localcontext(prec=_PRECISION):
        whole = int(value.to_integral_value(rounding=ROUND_HALF_UP))
    return whole if abs(whole) <= MAX_INTEGER else None


def rate_key(rate: Decimal) -> str:
    """`groupedVatAmounts` keys as Zettle writes them: "25.0", "12.0", "12.5"."""
    text = format(rate.normalize(), "f")
    return text if "." in text else f"{text}.0"


@dataclass
class _Line:
    raw: dict[str, Any]
    index: int
    quantity: Decimal
    vat: Decimal | None
    gross: Decimal | None  # the row's amount after its own discount, before the purchase's


def _quantity(raw: dict[str, Any], refund: bool) -> Decimal:
    try:
        quantity = parse_quantity(raw["quantity"]) if raw.get("quantity") is not None else Decimal(1)
    except QuantityError:  # pragma: no cover - validated when the purchase was recorded
        quantity = Decimal(0)
    # A refund's rows are negative (Zettle's own refunds say it both ways at once).
    return -abs(quantity) if refund else quantity


def _row_gross(raw: dict[str, Any], quantity: Decimal) -> Decimal | None:
    given = integer(raw.get("grossValue"))
    if given is not None:
        return Decimal(given)
    unit_price = integer(raw.get("unitPrice"))
    if unit_price is None:
        return None
    with localcontext(prec=_PRECISION):
        gross = quantity * unit_price
        discount = abs(integer(raw.get("discountValue")) or 0)
        return gross - discount if gross >= 0 else gross + discount


def _after_purchase_discounts(lines: list[_Line], discounts: Any) -> list[Decimal | None]:
    """Each row's share after the purchase's own discounts: a percentage off every row, an amount
    shared out in proportion to the rows' amounts (Zettle's rule, purchase.adoc "Discounts")."""
    values = [line.gross for line in lines]
    if not isinstance(discounts, list):
        return values
    with localcontext(prec=_PRECISION):
        for discount in discounts:
            if not isinstance(discount, dict):
                continue
            percentage = _number(discount.get("percentage"))
            amount = integer(discount.get("amount"))
            if percentage is not None and 0 <= percentage <= HUNDRED:
                factor = 1 - percentage / HUNDRED
            elif amount:
                total = sum((v for v in values if v is not None), Decimal(0))
                if not total:
                    continue
                factor = max(Decimal(0), 1 - abs(Decimal(amount)) / abs(total))
            else:
                continue
            values = [None if v is None else v * factor for v in values]
    return values


def _taxable(net_of: Decimal | None, line: _Line, inclusive: bool) -> int | None:
    """The row's amount without VAT (prices include VAT when the taxation mode is INCLUSIVE)."""
    if net_of is None:
        return None
    exempt = line.raw.get("taxExempt") is True
    if not inclusive or exempt or line.vat is None:
        return _money_out(net_of)
    with localcontext(prec=_PRECISION):
        return _money_out(net_of * HUNDRED / (HUNDRED + line.vat))


def _grouped_vat(lines: list[_Line], shares: list[Decimal | None]) -> dict[str, int]:
    groups: dict[str, Decimal] = {}
    for line, share in zip(lines, shares, strict=True):
        if line.vat is not None and share is not None:
            key = rate_key(line.vat)
            groups[key] = groups.get(key, Decimal(0)) + share
    rounded = {key: _money_out(value) for key, value in groups.items()}
    return {key: value for key, value in rounded.items() if value is not None}


def _given_grouped_vat(value: Any) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    amounts = {str(key): integer(amount) for key, amount in value.items()}
    if any(amount is None for amount in amounts.values()):
        return None
    return {key: amount for key, amount in amounts.items() if amount is not None}


def _line_out(line: _Line, taxable: int | None, applied: dict[int, dict[str, Any]]) -> dict[str, Any]:
    raw = line.raw
    product = canonical_uuid(raw.get("productUuid"))
    moved = applied.get(line.index, {})
    line_type = _text(raw.get("type")) or ("PRODUCT" if product else "CUSTOM_AMOUNT")
    line_id = _text(raw.get("id"))
    return {
        "id": line_id if line_id is not None else str(line.index),
        "quantity": format_units(to_units(line.quantity)),
        "productUuid": product,
        "variantUuid": canonical_uuid(raw.get("variantUuid")),
        "name": _text(raw.get("name")) or "",
        "variantName": _text(raw.get("variantName")) or "",
        "description": _text(raw.get("description")),
        "sku": _text(raw.get("sku")),
        "barcode": _text(raw.get("barcode")),
        "unitName": _text(raw.get("unitName")),
        "comment": _text(raw.get("comment")),
        "unitPrice": integer(raw.get("unitPrice")) or 0,
        "costPrice": integer(raw.get("costPrice")),
        "vatPercentage": _number_out(line.vat),
        "taxRates": _list(raw.get("taxRates")),
        "taxExempt": _flag(raw.get("taxExempt"), False),
        "rowTaxableAmount": taxable if taxable is not None else 0,
        "grossValue": integer(raw.get("grossValue")),
        "grossTax": integer(raw.get("grossTax")),
        "actualTaxableValue": integer(raw.get("actualTaxableValue")),
        "discount": _object(raw.get("discount")),
        "discountValue": integer(raw.get("discountValue")),
        # Where the line's stock went: the line's own locations, else those it was moved between.
        "fromLocationUuid": canonical_uuid(raw.get("fromLocationUuid")) or moved.get("fromLocationUuid"),
        "toLocationUuid": canonical_uuid(raw.get("toLocationUuid")) or moved.get("toLocationUuid"),
        "autoGenerated": _flag(raw.get("autoGenerated"), False),
        "type": line_type,
        "libraryProduct": _flag(raw.get("libraryProduct"), product is not None and line_type == "PRODUCT"),
        "details": _object(raw.get("details")),
    }


def _document_of(stored: StoredPurchase) -> dict[str, Any]:
    """The document; for a purchase whose document was not kept, its lines that moved stock."""
    if stored.document is not None:
        return stored.document
    lines = [
        {
            "id": str(entry.get("index")),
            "productUuid": entry.get("productUuid"),
            "variantUuid": entry.get("variantUuid"),
            "quantity": entry.get("change"),
            "fromLocationUuid": entry.get("fromLocationUuid"),
            "toLocationUuid": entry.get("toLocationUuid"),
        }
        for entry in stored.result.get("applied", [])
    ]
    return {"products": lines}


def _applied_by_index(result: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {entry["index"]: entry for entry in result.get("applied", []) if isinstance(entry, dict)}


def purchase_v2(stored: StoredPurchase, org: OrgFacts) -> dict[str, Any]:
    """The purchase in the shape `GET /purchases/v2` and `GET /purchase/v2/{uuid}` answer."""
    doc = _document_of(stored)
    raw_lines = [line for line in doc.get("products") or [] if isinstance(line, dict)]
    given_refund = doc.get("refund")
    quantities = [_quantity(raw, given_refund is True) for raw in raw_lines]
    refund = given_refund if isinstance(given_refund, bool) else any(q < 0 for q in quantities)
    lines = [
        _Line(raw, index, quantity, _number(raw.get("vatPercentage")), _row_gross(raw, quantity))
        for index, (raw, quantity) in enumerate(zip(raw_lines, quantities, strict=True))
    ]
    shares = _after_purchase_discounts(lines, doc.get("discounts"))
    mode = doc.get("taxationMode") if doc.get("taxationMode") in ("INCLUSIVE", "EXCLUSIVE") else None
    inclusive = (mode or org.taxation_mode) == "INCLUSIVE"
    applied = _applied_by_index(stored.result)
    products = []
    for line, share in zip(lines, shares, strict=True):
        given = integer(line.raw.get("rowTaxableAmount"))
        products.append(
            _line_out(line, _taxable(share, line, inclusive) if given is None else given, applied)
        )
    created = doc.get("created")
    created_ms = instant_ms(created) if isinstance(created, str) else None
    refunds = stored.refunds_purchase_uuid
    number = stored.purchase_number
    global_number = integer(doc.get("globalPurchaseNumber"))
    grouped = _given_grouped_vat(doc.get("groupedVatAmounts"))
    return {
        "source": _text(doc.get("source")) or DEFAULT_SOURCE,
        "purchaseUUID": uuid_b64(stored.purchase_uuid),
        "purchaseUUID1": stored.purchase_uuid,
        "amount": integer(doc.get("amount")) or 0,
        "vatAmount": integer(doc.get("vatAmount")) or 0,
        "country": _text(doc.get("country")) or org.country,
        "currency": _text(doc.get("currency")) or org.currency,
        "timestamp": payload_timestamp(stored.timestamp_ms),
        "created": payload_timestamp(stored.timestamp_ms if created_ms is None else created_ms),
        "purchaseNumber": number,
        "globalPurchaseNumber": number if global_number is None else global_number,
        "userDisplayName": _text(doc.get("userDisplayName")),
        "userId": integer(doc.get("userId")),
        "organizationId": org.organization_id,
        "gpsCoordinates": _object(doc.get("gpsCoordinates")),
        "cashRegister": _object(doc.get("cashRegister")),
        "products": products,
        "discounts": _list(doc.get("discounts")),
        "payments": _list(doc.get("payments")),
        "serviceCharge": _object(doc.get("serviceCharge")),
        "receiptCopyAllowed": _flag(doc.get("receiptCopyAllowed"), True),
        "references": _object(doc.get("references")),
        "groupedVatAmounts": _grouped_vat(lines, shares) if grouped is None else grouped,
        "refund": refund,
        "refunded": bool(stored.refunded_by) or doc.get("refunded") is True,
        "refundsPurchaseUUID": None if refunds is None else uuid_b64(refunds),
        "refundsPurchaseUUID1": refunds,
        "refundedByPurchaseUUIDs": [uuid_b64(u) for u in stored.refunded_by],
        "refundedByPurchaseUUIDs1": list(stored.refunded_by),
        "customAmountSale": _flag(doc.get("customAmountSale"), False),
    }
