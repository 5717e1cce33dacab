"""Wire models: request bodies (validated, with Zettle property paths) and documented responses."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from stockledger.domain.changes import Change
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.quantity import parse_quantity, to_units
from stockledger.domain.text import NUL_REFUSED, has_nul

MAX_EXTERNAL_UUID_LEN = 255


def _uuid(value: Any) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        raise ValueError("must be a UUID")
    return canonical


def _quantity(value: Any) -> Decimal:
    return parse_quantity(value)


def _no_nul(value: str) -> str:
    if has_nul(value):
        raise ValueError(NUL_REFUSED)
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


Uuid = Annotated[str, BeforeValidator(_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]
_QUANTITY_SCHEMA = WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d{1,3})?$"}]}
)
Quantity = Annotated[Decimal, BeforeValidator(_quantity), _QUANTITY_SCHEMA]
PositiveQuantity = Annotated[Decimal, BeforeValidator(_quantity), AfterValidator(_positive), _QUANTITY_SCHEMA]
# Every free-text field of a request is stored or looked up: no NUL (domain/text.py). Annotated
# after the field's own constraints, so they keep their messages and their JSON schema.
NO_NUL = AfterValidator(_no_nul)
ExternalUuid = Annotated[str, Field(max_length=MAX_EXTERNAL_UUID_LEN), NO_NUL]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class StartTracking(Wire):
    productUuid: Uuid


class ChangeIn(Wire):
    productUuid: Uuid
    variantUuid: Uuid
    fromLocationUuid: Uuid
    toLocationUuid: Uuid
    change: PositiveQuantity


class UpdateBalances(Wire):
    changes: list[ChangeIn]
    returnBalanceForLocationUuid: Uuid | None = None
    externalUuid: ExternalUuid | None = None


class VariantChangeIn(Wire):
    variantUuid: Uuid
    fromLocationUuid: Uuid
    toLocationUuid: Uuid
    change: PositiveQuantity


class ProductChangeIn(Wire):
    productUuid: Uuid
    trackingStatusChange: Literal["START_TRACKING", "STOP_TRACKING", "NO_CHANGE"] = "NO_CHANGE"
    variantChanges: list[VariantChangeIn] = Field(default_factory=list)


class BulkRequest(Wire):
    productChanges: list[ProductChangeIn]
    returnBalanceForLocationUuid: Uuid | None = None


class ProductsQuery(Wire):
    productUuids: list[Uuid]
    locationType: str | None = None
    locationUuid: Uuid | None = None


def to_change(
    product: str, variant: str, from_location: str, to_location: str, change: Decimal, path: str
) -> Change:
    if from_location == to_location:
        raise validation_error([Violation(f"{path}.toLocationUuid", "must differ from fromLocationUuid")])
    return Change(product, variant, from_location, to_location, to_units(change), path)


def changes_of(body: UpdateBalances) -> list[Change]:
    return [
        to_change(
            c.productUuid, c.variantUuid, c.fromLocationUuid, c.toLocationUuid, c.change, f"changes[{i}]"
        )
        for i, c in enumerate(body.changes)
    ]


# ---- documented responses ------------------------------------------------------------------


class LocationOut(Wire):
    uuid: str
    type: Literal["STORE", "SOLD", "BIN", "SUPPLIER"]
    name: str
    description: str | None
    default: bool


class BalanceRecordOut(Wire):
    locationUuid: str
    locationType: str
    productUuid: str
    variantUuid: str
    balance: str


class LocationBalancesOut(Wire):
    locationUuid: str
    variants: list[BalanceRecordOut]


class LocationInventoryOut(Wire):
    locationUuid: str
    trackedProducts: list[str]
    variants: list[BalanceRecordOut]
    latest: int


class ErrorViolationOut(Wire):
    propertyName: str
    developerMessage: str


class ErrorOut(Wire):
    developerMessage: str
    errorType: str
    violations: list[ErrorViolationOut] | None = None


class TokenOut(Wire):
    access_token: str
    expires_in: int


class OAuthErrorOut(Wire):
    error: str
    error_description: str | None = None


class UserOut(Wire):
    uuid: str
    organizationUuid: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 404, 405, 409, 413, 429, 500)
}
