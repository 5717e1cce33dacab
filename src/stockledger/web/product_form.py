"""The product form of the back office: its fields, read from a posted form or a stored product,
turned into a Product Library request body (wire vocabulary), and the library's violations (wire
paths such as `variants[0].price.amount`) turned back into the form fields they concern."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from stockledger.domain import products as p
from stockledger.domain.errors import ServiceError, Violation
from stockledger.domain.ids import canonical_uuid, new_uuid1
from stockledger.domain.money import MoneyError, format_price, parse_price
from stockledger.domain.product_input import parse_product

MAX_FIELD_CHARS = 4000  # longer than any valid value (a description is at most 1024): never stored
MAX_ROWS = p.MAX_VARIANTS
ROW_MEMBERS = ("name", "sku", "barcode", "price")
LABELS = {"name": "The name", "sku": "The SKU", "barcode": "The barcode", "price": "The price"}
_VARIANT_PATH = re.compile(r"^variants\[(\d+)\](?:\.(\w+))?")


@dataclass
class Row:
    """One variant row: `uuid` is blank for a row added in the form (it gets one when saved)."""

    uuid: str = ""
    name: str = ""
    sku: str = ""
    barcode: str = ""
    price: str = ""
    currency: str = ""
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not (self.uuid or self.name or self.sku or self.barcode or self.price)


@dataclass
class ProductForm:
    name: str = ""
    description: str = ""
    vat: str = ""
    etag: str = ""
    rows: list[Row] = field(default_factory=list)


def vat_field(rate: Decimal | None) -> str:
    return "" if rate is None else format(rate.normalize(), "f") if rate != 0 else "0"


def new_form(currency: str, vat: Decimal) -> ProductForm:
    """A new product: the organization's VAT rate and one empty variant row."""
    return ProductForm(vat=vat_field(vat), rows=[Row(currency=currency)])


def form_of(product: p.Product, currency: str) -> ProductForm:
    """A stored product as the edit form shows it (a product stored without variants shows its
    default variant, which saving then stores)."""
    rows = []
    for variant in p.listed_variants(product):
        price = variant.price
        rows.append(
            Row(
                uuid=variant.uuid,
                name=variant.name or "",
                sku=variant.sku or "",
                barcode=variant.barcode or "",
                price="" if price is None else format_price(price.amount, price.currency_id),
                currency=currency if price is None else price.currency_id,
            )
        )
    return ProductForm(
        name=product.name or "",
        description=product.description or "",
        vat=vat_field(product.vat_percentage),
        etag=product.etag,
        rows=rows,
    )


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_FIELD_CHARS].strip() if isinstance(value, str) else ""


def read_form(form: Mapping[str, Any], currency: str) -> ProductForm:
    """The posted form; a row's currency is the one it was shown with (a stored price keeps its
    own), else the organization's."""
    try:
        count = int(_text(form, "rows"))
    except ValueError:
        count = 1
    rows = [
        Row(
            uuid=canonical_uuid(_text(form, f"v{i}_uuid")) or "",
            name=_text(form, f"v{i}_name"),
            sku=_text(form, f"v{i}_sku"),
            barcode=_text(form, f"v{i}_barcode"),
            price=_text(form, f"v{i}_price"),
            currency=_text(form, f"v{i}_currency").upper()[:3] or currency,
            remove=bool(form.get(f"v{i}_remove")),
        )
        for i in range(max(1, min(count, MAX_ROWS)))
    ]
    return ProductForm(
        name=_text(form, "name"),
        description=_text(form, "description"),
        vat=_text(form, "vat").replace(",", "."),
        etag=_text(form, "etag"),
        rows=rows,
    )


@dataclass
class Body:
    """A request body made from the form; `rows[i]` is the form row of `variants[i]`."""

    document: dict[str, Any]
    rows: list[int]
    errors: dict[str, str]


def body_of(form: ProductForm, *, editing: bool) -> Body:
    """The library request body: kept rows in order (a new row left blank is skipped; a new product
    left without any keeps one unnamed variant); blank fields are null when editing (removing a
    stored value) and left out when creating. Prices are read here, exactly; a price that cannot
    be read is an error of its row and is left out of the body."""
    errors: dict[str, str] = {}
    variants: list[dict[str, Any]] = []
    rows: list[int] = []
    for i, row in enumerate(form.rows):
        if row.remove or (row.blank and not row.uuid):
            continue
        variant: dict[str, Any] = {"uuid": row.uuid or new_uuid1()}
        for member in ("name", "sku", "barcode"):
            value = getattr(row, member)
            if value or editing:
                variant[member] = value or None
        if row.price:
            try:
                variant["price"] = {
                    "amount": parse_price(row.price, row.currency),
                    "currencyId": row.currency,
                }
            except MoneyError as exc:
                errors[f"v{i}_price"] = f"The price {exc}."
        elif editing:
            variant["price"] = None
        variants.append(variant)
        rows.append(i)
    if not variants:
        if editing or any(row.remove for row in form.rows):
            errors["variants"] = "Keep at least one variant: a product has one or more."
        else:
            variants.append({"uuid": new_uuid1()})
            rows.append(0)
    document: dict[str, Any] = {"name": form.name, "variants": variants}
    for key, value in (("description", form.description), ("vatPercentage", form.vat)):
        if value or editing:
            document[key] = value or None
    return Body(document, rows, errors)


def field_of(path: str, rows: list[int]) -> tuple[str, str]:
    """The form field of a wire path, and how its message starts."""
    found = _VARIANT_PATH.match(path)
    if found is not None:
        index, member = int(found.group(1)), found.group(2) or ""
        if index >= len(rows):
            return "variants", "A variant"
        if member in ROW_MEMBERS:
            return f"v{rows[index]}_{member}", LABELS[member]
        return f"v{rows[index]}", "This variant"
    if path == "name":
        return "name", "The name"
    if path == "description":
        return "description", "The description"
    if path == "vatPercentage":
        return "vat", "The VAT rate"
    if path == "variants":
        return "variants", "The variants"
    return "form", "The product"


def errors_of(violations: list[Violation], rows: list[int]) -> dict[str, str]:
    """Violations as form errors, the first one of each field."""
    errors: dict[str, str] = {}
    for violation in violations:
        name, subject = field_of(violation.property_name, rows)
        errors.setdefault(name, f"{subject} {violation.message}.")
    return errors


def check_rest(body: Body, product_uuid: str) -> dict[str, str]:
    """When the form has errors of its own, what the library would also say of the rest of it, so
    that every mistake is shown at once (checked, never written)."""
    try:
        parse_product({**body.document, "uuid": product_uuid})
    except ServiceError as exc:
        return errors_of(exc.violations, body.rows)
    return {}


def with_row(form: ProductForm, currency: str) -> ProductForm:
    """The form with one more empty variant row (the "Add a variant" button, no JavaScript)."""
    if len(form.rows) >= MAX_ROWS:
        return form
    return replace(form, rows=[*form.rows, Row(currency=currency)])
