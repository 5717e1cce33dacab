"""Organization settings: the profile integrations read (name, country, currency, language, …)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission
from stockledger.domain.organization import EffectiveProfile, parse_changes
from stockledger.plumbing import app_state
from stockledger.service import settings
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Form field → profile field, in the order the form shows them.
FORM_FIELDS = {
    "name": "name",
    "country": "country",
    "currency": "currency",
    "language": "language",
    "time_zone": "time_zone",
    "vat_percentage": "vat_percentage",
    "contact_email": "contact_email",
}
MAX_FIELD_CHARS = 1000  # longer than any valid value: the rest is never looked at


def _values(profile: EffectiveProfile) -> dict[str, str]:
    return {
        "name": profile.name,
        "country": profile.country,
        "currency": profile.currency,
        "language": profile.language,
        "time_zone": profile.time_zone,
        "vat_percentage": format(profile.vat_percentage, "f"),
        "contact_email": profile.contact_email or "",
    }


def _render(
    request: Request, user: session.UiUser, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "user": user,
        "active": "settings",
        "title": "Settings",
        "values": values,
        "errors": errors,
        "saved": request.query_params.get("saved") == "1",
        "can_save": user.can(Permission.SETTINGS),
    }
    return page(request, "settings.html", context, status)


@router.get("/ui/settings")
async def settings_page(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.VIEW)
    found = await settings.get(app_state(request).db, user.actor)
    return _render(request, user, _values(found.profile), {})


@router.post("/ui/settings")
async def save_settings(request: Request) -> Response:
    """Every field of the form, through the same service as PUT /organizations/{org}/settings; a
    blank field returns to its default."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.SETTINGS)
    values = {name: str(form.get(name, ""))[:MAX_FIELD_CHARS] for name in FORM_FIELDS}
    raw: dict[str, object] = {field: (values[name].strip() or None) for name, field in FORM_FIELDS.items()}
    parsed, errors = parse_changes(raw)
    if errors:
        form_name = {field: name for name, field in FORM_FIELDS.items()}
        messages = {form_name[field]: f"This {message}." for field, message in errors.items()}
        return _render(request, user, values, messages, 400)
    await settings.put(app_state(request).db, user.actor, profile_changes=parsed)
    return RedirectResponse("/ui/settings?saved=1", status_code=303)
