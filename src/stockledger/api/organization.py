"""The organization: its settings (Extension, spec §8) and its profile as Zettle's "secure" host
serves it to integrations (`GET /api/resources/organizations/self`, product-library-api §7.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StrictBool, StrictStr, WithJsonSchema
from starlette.responses import Response

from stockledger.api.auth import Reader, Writer, requires
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, Wire
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.organization import organization_id, parse_changes
from stockledger.plumbing import app_state
from stockledger.service import settings
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS)

# Wire name → profile field (domain/organization.Profile).
PROFILE_WIRE_NAMES = {
    "name": "name",
    "country": "country",
    "currency": "currency",
    "language": "language",
    "timeZone": "time_zone",
    "vatPercentage": "vat_percentage",
    "contactEmail": "contact_email",
}
# Any valid token may read its own organization: Zettle's READ:USERINFO scope is not one this
# service issues, and the organization's profile is no secret from its own integrations.
AnyCaller = Depends(requires())


# A number or a numeric string, checked by domain/organization (one message for every wrong type).
VatIn = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]})]


class SettingsIn(Wire):
    allowNegativeStock: StrictBool | None = None
    name: StrictStr | None = Field(None, description="1 to 255 characters")
    country: StrictStr | None = Field(None, description="ISO 3166-1 alpha-2, e.g. SE")
    currency: StrictStr | None = Field(None, description="ISO 4217, e.g. SEK")
    language: StrictStr | None = Field(None, description="ISO 639-1, e.g. sv")
    timeZone: StrictStr | None = Field(None, description="IANA time zone, e.g. Europe/Stockholm")
    vatPercentage: VatIn = Field(None, description="0 to 100, e.g. 25 or 12.5")
    contactEmail: StrictStr | None = None


class SettingsOut(Wire):
    allowNegativeStock: bool
    name: str
    country: str
    currency: str
    language: str
    timeZone: str
    vatPercentage: float
    contactEmail: str | None


Text = Annotated[str | None, Field(description="a string or null, never a number")]


class OrganizationOut(Wire):
    """Every key of Zettle's answer, with its exact JSON type (PHP clients hydrate each one)."""

    uuid: str
    organizationId: int
    name: str
    receiptName: Text
    address: Text
    addressLine2: Text
    zipCode: Text
    city: Text
    legalName: Text
    legalAddress: Text
    legalZipCode: Text
    legalCity: Text
    legalState: Text
    phoneNumber: Text
    contactEmail: Text
    receiptEmail: Text
    legalEntityType: Text
    legalEntityNr: Text
    vatPercentage: float
    country: str
    language: str
    currency: str
    created: str
    ownerUuid: Text
    customerStatus: str
    usesVat: bool
    customerType: Text
    taxationType: str
    taxationMode: str
    timeZone: str


def _settings_body(found: settings.OrgSettings) -> dict[str, Any]:
    profile = found.profile
    return {
        "allowNegativeStock": found.allow_negative_stock,
        "name": profile.name,
        "country": profile.country,
        "currency": profile.currency,
        "language": profile.language,
        "timeZone": profile.time_zone,
        "vatPercentage": float(profile.vat_percentage),
        "contactEmail": profile.contact_email,
    }


def zettle_timestamp(ms: int) -> str:
    """Epoch milliseconds → Zettle's `2019-09-26T11:08:50.064+0000` (UTC, offset without a colon)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def organization_body(found: settings.OrgSettings) -> dict[str, Any]:
    profile = found.profile
    return {
        "uuid": found.org_uuid,
        "organizationId": organization_id(found.org_uuid),
        "name": profile.name,
        "receiptName": profile.name,
        "address": None,
        "addressLine2": None,
        "zipCode": None,
        "city": None,
        "legalName": profile.name,
        "legalAddress": None,
        "legalZipCode": None,
        "legalCity": None,
        "legalState": None,
        "phoneNumber": None,
        "contactEmail": profile.contact_email,
        "receiptEmail": profile.contact_email,
        "legalEntityType": None,
        "legalEntityNr": None,
        # A JSON number, never a string: both PHP clients type-check it (a float is exact enough for
        # a rate with at most 3 fraction digits, and it is not money).
        "vatPercentage": float(profile.vat_percentage),
        "country": profile.country,
        "language": profile.language,
        "currency": profile.currency,
        "created": zettle_timestamp(found.created_ms),
        "ownerUuid": None,
        "customerStatus": "ACCEPTED",
        "usesVat": True,
        "customerType": None,
        "taxationType": profile.taxation_type,
        "taxationMode": profile.taxation_mode,
        "timeZone": profile.time_zone,
    }


@router.get("/organizations/{org}/settings", response_model=SettingsOut, tags=["Extensions"])
async def get_settings(request: Request, org: str, actor: Actor = Reader) -> Response:
    found = await settings.get(app_state(request).db, actor)
    return json_response(_settings_body(found))


@router.put("/organizations/{org}/settings", response_model=SettingsOut, tags=["Extensions"])
async def put_settings(request: Request, org: str, body: SettingsIn, actor: Actor = Writer) -> Response:
    """Change the settings given (at least one); the others keep their values. A profile field set
    to null returns to its default."""
    given = body.model_fields_set
    if not given & ({"allowNegativeStock"} | PROFILE_WIRE_NAMES.keys()):
        raise validation_error([Violation("", "give at least one setting")])
    if "allowNegativeStock" in given and body.allowNegativeStock is None:
        raise validation_error([Violation("allowNegativeStock", "must not be null")])
    raw = {PROFILE_WIRE_NAMES[name]: getattr(body, name) for name in PROFILE_WIRE_NAMES if name in given}
    parsed, errors = parse_changes(raw)
    if errors:
        wire_of = {field: wire for wire, field in PROFILE_WIRE_NAMES.items()}
        raise validation_error([Violation(wire_of[field], message) for field, message in errors.items()])
    found = await settings.put(
        app_state(request).db,
        actor,
        allow_negative_stock=body.allowNegativeStock,
        profile_changes=parsed,
        claim=claim_of(request),
    )
    return json_response(_settings_body(found))


@router.get("/api/resources/organizations/{org}", response_model=OrganizationOut, tags=["Organization"])
async def organization_info(request: Request, org: str, actor: Actor = AnyCaller) -> Response:
    """The caller's organization as Zettle's "secure" host describes it (`{org}`: `self` or its
    UUID), from the organization's settings; what this service does not know is null."""
    found = await settings.get(app_state(request).db, actor)
    return json_response(organization_body(found))
