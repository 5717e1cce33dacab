"""The organization's profile (name, country, currency, language, …): its rules and its defaults."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import pycountry

from stockledger.domain.errors import ServiceError, forbidden
from stockledger.domain.text import NUL

# What an organization answers before its merchant sets anything: a complete, valid profile, so an
# integration's setup (which requires country, currency and a VAT rate) works from the first request.
DEFAULT_COUNTRY = "SE"
DEFAULT_CURRENCY = "SEK"
DEFAULT_LANGUAGE = "sv"
DEFAULT_TIME_ZONE = "Europe/Stockholm"
DEFAULT_VAT_PERCENTAGE = Decimal("25")

MAX_NAME_CHARS = 255  # the column's width; Zettle's own names are far shorter
MAX_EMAIL_CHARS = 254  # RFC 5321's limit of a forward path
MAX_VAT_FRACTION_DIGITS = 3
# Deliberately loose: one @, no blanks, a dot in the domain. Deliverability is the merchant's concern.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Profile:
    """The stored profile: None means "not set", answered as the default (see `effective`)."""

    name: str | None = None
    country: str | None = None
    currency: str | None = None
    language: str | None = None
    time_zone: str | None = None
    vat_percentage: Decimal | None = None
    contact_email: str | None = None


PROFILE_FIELDS = tuple(f.name for f in fields(Profile))


# Every organization is a VAT organization whose prices include VAT: sales tax (rates chosen per
# product from Zettle's /v1/taxes) is not modelled, so the taxes API answers as Zettle does for
# VAT organizations (api/taxes.py).
VAT = "VAT"
INCLUSIVE = "INCLUSIVE"


@dataclass(frozen=True)
class EffectiveProfile:
    """What the organization answers: every field set, the defaults filled in."""

    name: str
    country: str
    currency: str
    language: str
    time_zone: str
    vat_percentage: Decimal
    contact_email: str | None
    taxation_type: str = VAT
    taxation_mode: str = INCLUSIVE


def taxes_refused(profile: EffectiveProfile) -> ServiceError:
    """Zettle's answer to its taxes API (`/v1/taxes…`) for an organization that does not use sales
    tax: 403, which integrations read as "send vatPercentage, not taxRates" (product-library-api
    §3.11). Every organization here is a VAT one (above)."""
    return forbidden(
        f"Tax rates are for sales-tax organizations; this organization's taxation type is "
        f"{profile.taxation_type} ({format(profile.vat_percentage, 'f')}% by default)"
    )


def organization_id(org_uuid: str) -> int:
    """Zettle's numeric organization id: stable per organization, derived from its UUID (nothing in
    this service numbers organizations); 28 bits, well inside every client's integer type."""
    return int(org_uuid.replace("-", "")[:7], 16)


def effective(profile: Profile, org_uuid: str) -> EffectiveProfile:
    """The profile with its defaults; an unnamed organization is called by its UUID."""
    return EffectiveProfile(
        name=profile.name or org_uuid,
        country=profile.country or DEFAULT_COUNTRY,
        currency=profile.currency or DEFAULT_CURRENCY,
        language=profile.language or DEFAULT_LANGUAGE,
        time_zone=profile.time_zone or DEFAULT_TIME_ZONE,
        vat_percentage=DEFAULT_VAT_PERCENTAGE if profile.vat_percentage is None else profile.vat_percentage,
        contact_email=profile.contact_email,
    )


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code that exists (any case in, upper case out), or ValueError."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. SE")
    return code


def parse_currency(value: str) -> str:
    """An ISO 4217 code that exists (any case in, upper case out), or ValueError."""
    code = value.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("must be an ISO 4217 currency code, e.g. SEK")
    return code


def parse_language(value: str) -> str:
    """An ISO 639-1 code that exists (any case in, lower case out), or ValueError. Integrations join
    it with the country (`sv-SE`) to pick a locale."""
    code = value.strip().lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 639-1 language code, e.g. sv")
    return code


def parse_time_zone(value: str) -> str:
    """An IANA time zone name (clients construct a time zone from it), or ValueError."""
    name = value.strip()
    if name not in _time_zones():
        raise ValueError("must be an IANA time zone, e.g. Europe/Stockholm")
    return name


def parse_vat_percentage(value: str | int | Decimal) -> Decimal:
    """A VAT rate from 0 to 100 with at most 3 fraction digits, or ValueError."""
    if isinstance(value, bool):
        raise ValueError("must be a number from 0 to 100")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number from 0 to 100") from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValueError("must be a number from 0 to 100")
    if rate != rate.quantize(Decimal(1).scaleb(-MAX_VAT_FRACTION_DIGITS)):
        raise ValueError(f"must have at most {MAX_VAT_FRACTION_DIGITS} fraction digits")
    return rate.normalize() if rate != 0 else Decimal(0)


def parse_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME_CHARS or NUL in name:
        raise ValueError(f"must be 1 to {MAX_NAME_CHARS} characters")
    return name


def parse_email(value: str) -> str:
    email = value.strip()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise ValueError("must be an e-mail address")
    return email


PARSERS: dict[str, Callable[[Any], object]] = {
    "name": parse_name,
    "country": parse_country,
    "currency": parse_currency,
    "language": parse_language,
    "time_zone": parse_time_zone,
    "vat_percentage": parse_vat_percentage,
    "contact_email": parse_email,
}


def parse_changes(changes: dict[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """Parse raw values by profile field name (None resets a field to its default). Returns the parsed
    values and, per bad field, why it is bad; each front door names the fields in its own words."""
    parsed: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field_name, raw in changes.items():
        if raw is None:
            parsed[field_name] = None
        elif field_name != "vat_percentage" and not isinstance(raw, str):
            errors[field_name] = "must be a string"
        elif isinstance(raw, str | int | Decimal):
            try:
                parsed[field_name] = PARSERS[field_name](raw)
            except ValueError as exc:
                errors[field_name] = str(exc)
        else:
            errors[field_name] = "must be a number from 0 to 100"
    return parsed, errors


def apply_changes(current: Profile, parsed: dict[str, object]) -> Profile:
    """`current` with parsed values (from `parse_changes`) replacing its fields."""
    return replace(current, **parsed)  # type: ignore[arg-type]
