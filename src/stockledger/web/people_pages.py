"""People (owners only): the organization's accounts; add one with a temporary password, change a
role, disable or enable (which also unlocks), reset a password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission, Role, parse_role, temporary_password
from stockledger.domain.errors import ServiceError
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import accounts
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NEW_ROLES = [(Role.STAFF, "Staff: adjusts stock, counts, stocktakes, low-stock levels"),
             (Role.READ_ONLY, "Read-only: sees stock, history and settings, changes nothing")]  # fmt: skip
ROLE_LABELS = {Role.OWNER: "Owner", Role.STAFF: "Staff", Role.READ_ONLY: "Read-only"}
DONE = {
    "role": "Role changed.",
    "disabled": "Account disabled: its sessions have ended.",
    "enabled": "Account enabled and unlocked.",
}
MAX_FIELD_CHARS = 1000  # longer than any valid value: the rest is never looked at


async def _render(
    request: Request, user: session.UiUser, extra: dict[str, Any], status: int = 200
) -> Response:
    state = app_state(request)
    context: dict[str, Any] = {
        "user": user,
        "active": "people",
        "title": "People",
        "people": await accounts.list_accounts(state.db, user.actor.org),
        "now_ms": state.signin_clock(),
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
        "new_roles": NEW_ROLES,
        "values": {"name": "", "email": "", "role": Role.STAFF.value},
        "errors": {},
        "done": DONE.get(request.query_params.get("done", "")),
        "issued": None,
        "failed": None,
    }
    context.update(extra)
    return page(request, "people.html", context, status)


async def _owner(request: Request) -> tuple[session.UiUser, Any]:
    """The signed-in owner and the form they sent (checked: CSRF token, then the role)."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.PEOPLE)
    return user, form


def _not_yourself(user: session.UiUser, account_uuid: str) -> None:
    if user.account is not None and user.account.uuid == account_uuid:
        raise ServiceError("Your own account is changed by another owner (or from the command line).", 409)


@router.get("/ui/people")
async def people(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.PEOPLE)
    return await _render(request, user, {})


@router.post("/ui/people")
async def add_person(request: Request) -> Response:
    """A staff or read-only account with a temporary password, shown once; they choose their own at
    their first sign-in."""
    user, form = await _owner(request)
    values = {name: str(form.get(name, ""))[:MAX_FIELD_CHARS] for name in ("name", "email", "role")}
    errors: dict[str, str] = {}
    role = Role.STAFF
    try:
        role = parse_role(values["role"])
        if role not in (Role.STAFF, Role.READ_ONLY):
            raise ValueError("must be staff or read-only (make an owner by changing a role)")
    except ValueError as exc:
        errors["role"] = f"The role {exc}."
    password = temporary_password()
    if not errors:
        try:
            created = await accounts.create(
                app_state(request).db, user.actor.org,
                email=values["email"], name=values["name"], password=password, role=role,
                must_change_password=True,
            )  # fmt: skip
        except ServiceError as exc:
            if exc.status >= 500 or exc.status in (401, 403):
                raise
            for violation in exc.violations:
                errors.setdefault(
                    violation.property_name, _sentence(violation.property_name, violation.message)
                )
            if not errors:
                errors["form"] = exc.message
        else:
            return await _render(request, user, {"issued": (created, password)})
    return await _render(request, user, {"values": values, "errors": errors}, 400)


def _sentence(field: str, message: str) -> str:
    if message.endswith("."):
        return message
    what = {"email": "The e-mail address", "name": "The name"}.get(field, "This")
    return f"{what} {message}."


async def _change(request: Request, account: str, what: str) -> Response:
    user, form = await _owner(request)
    account_uuid = path_uuid(account, "account")
    _not_yourself(user, account_uuid)
    db, org = app_state(request).db, user.actor.org
    try:
        if what == "role":
            try:
                role = parse_role(str(form.get("role", ""))[:MAX_FIELD_CHARS])
            except ValueError as exc:
                raise ServiceError(f"The role {exc}.", 400) from None
            await accounts.set_role(db, org, account_uuid, role)
        elif what == "disabled":
            await accounts.disable(db, org, account_uuid)
        else:
            await accounts.enable(db, org, account_uuid)
    except ServiceError as exc:
        if exc.status not in (400, 409):
            raise
        return await _render(request, user, {"failed": exc.message}, exc.status)
    return RedirectResponse(f"/ui/people?done={what}#person-{account_uuid}", status_code=303)


@router.post("/ui/people/{account}/role")
async def change_role(request: Request, account: str) -> Response:
    return await _change(request, account, "role")


@router.post("/ui/people/{account}/disable")
async def disable(request: Request, account: str) -> Response:
    return await _change(request, account, "disabled")


@router.post("/ui/people/{account}/enable")
async def enable(request: Request, account: str) -> Response:
    return await _change(request, account, "enabled")


@router.post("/ui/people/{account}/reset-password")
async def reset_password(request: Request, account: str) -> Response:
    """A new temporary password, shown once; the person's sessions end and the lock-out is lifted."""
    user, _ = await _owner(request)
    account_uuid = path_uuid(account, "account")
    _not_yourself(user, account_uuid)
    password = temporary_password()
    changed = await accounts.set_password(
        app_state(request).db, user.actor.org, account_uuid, password, must_change=True
    )
    return await _render(request, user, {"issued": (changed, password)})
