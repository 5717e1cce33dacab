"""Sessions: a person signs in with e-mail and password (an API key too, where the setting allows
it), a signed HttpOnly cookie keeps the session, CSRF guards POSTs, roles decide what each may do.

The cookie names a session row (store/ui_sessions.py) that every request reads together with the
account (or key): signing out deletes the row, so the session ends on the server and a copy of the
cookie is refused from then on; disabling the account (or revoking the key) ends it too."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from stockledger.domain.accounts import ROLE_PERMISSIONS, ROLE_SCOPES, Permission, Role, key_permissions
from stockledger.domain.errors import ServiceError, forbidden
from stockledger.plumbing import app_state
from stockledger.service import accounts, apikeys
from stockledger.service.accounts import Account
from stockledger.service.context import Actor

SESSION_COOKIE = "stockledger_session"
SIGNIN_COOKIE = "stockledger_signin"  # carries the sign-in form's CSRF token before a session exists
COOKIE_PATH = "/ui"
SESSION_TTL_S = 8 * 3600  # a working day; then the password is asked for again
SIGNIN_TTL_S = 3600
CSRF_FIELD = "csrf_token"
# One answer for an unknown e-mail and a wrong password: the page never says which it was.
SIGNIN_REFUSED = "The e-mail address or the password is not right."
ACCOUNT_DISABLED = "This account is disabled. Ask your organization's owner."
KEY_REFUSED = "This API key is not valid or has been revoked."
KEY_EXPIRED = "This API key has expired: issue a new one (stockledger apikey create)."
KEY_SIGNIN_OFF = (
    "Signing in with an API key is turned off on this server: sign in with your e-mail address and password."
)
# A person who must replace a password someone else chose may open only these until they do.
PASSWORD_CHANGE_PATHS = frozenset({"/ui/account", "/ui/account/password", "/ui/signout"})
# What an API-key session lacks, said in the key's own terms (scopes).
SCOPES_NEEDED = {
    Permission.VIEW: "READ:PRODUCT",
    Permission.STOCK: "WRITE:PRODUCT",
    Permission.SETTINGS: "WRITE:PRODUCT",
    Permission.WEBHOOKS: "READ:PRODUCT or READ:PURCHASE",
}


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""


class PasswordChangeRequired(Exception):
    """The person signed in with a temporary password: the page answers with a redirect to their
    account page until they choose their own."""


@dataclass(frozen=True)
class UiUser:
    """Who is signed in: a person's account (or an API key), what they may do, and the session's
    CSRF token. `actor` is how the services and the ledger see them."""

    actor: Actor
    csrf_token: str
    session_id: str
    name: str
    permissions: frozenset[Permission]
    role: Role | None = None  # None: a session of an API key
    account: Account | None = None
    key_id: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def _serializer(request: Request, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_state(request).secret, salt=f"stockledger.ui.{purpose}")


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _start(request: Request, response: Response, session: dict[str, str]) -> None:
    session["csrf"] = secrets.token_urlsafe(32)
    cookie = _serializer(request, "session").dumps(session)
    _set_cookie(request, response, SESSION_COOKIE, cookie, SESSION_TTL_S)
    response.delete_cookie(SIGNIN_COOKIE, path=COOKIE_PATH)


def locked_message(until_ms: int) -> str:
    until = datetime.fromtimestamp(until_ms / 1000, tz=UTC).strftime("%H:%M UTC")
    return (
        f"Too many wrong passwords: this account is locked until {until}. Try again then, or ask "
        "your organization's owner to unlock it."
    )


async def sign_in(request: Request, response: Response, email: str, password: str) -> str | None:
    """Check the e-mail and password and set the session cookie; None when signed in, else what the
    sign-in form tells the person."""
    state = app_state(request)
    session_id = secrets.token_urlsafe(32)
    outcome = await accounts.sign_in(
        state.db, email, password, session_id=session_id, ttl_s=SESSION_TTL_S, now_ms=state.signin_clock()
    )
    if outcome.locked_until_ms is not None:
        return locked_message(outcome.locked_until_ms)
    if outcome.disabled:
        return ACCOUNT_DISABLED
    if outcome.account is None:
        return SIGNIN_REFUSED
    _start(
        request, response, {"sid": session_id, "org": outcome.account.org_uuid, "uid": outcome.account.uuid}
    )
    return None


async def sign_in_with_key(request: Request, response: Response, api_key: str) -> str | None:
    """Where STOCKLEDGER_UI_API_KEY_SIGNIN allows it: verify the key (signed by this server,
    unexpired, recorded, not revoked) and set the session cookie; None when signed in."""
    state = app_state(request)
    if not state.settings.ui_api_key_signin:
        return KEY_SIGNIN_OFF
    try:
        record = (await apikeys.verify_api_key(state.db, state.secret, api_key.strip())).record
    except apikeys.KeyRefused as refused:
        return KEY_EXPIRED if refused.expired else KEY_REFUSED
    session_id = secrets.token_urlsafe(32)
    await apikeys.open_session(state.db, session_id, record, SESSION_TTL_S)
    _start(request, response, {"sid": session_id, "org": record.org_uuid, "kid": record.key_id})
    return None


async def sign_out(request: Request, response: Response, user: UiUser) -> None:
    """End the session on the server (its row is deleted) and ask the browser to drop the cookie."""
    await apikeys.end_session(app_state(request).db, user.session_id)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def _session_of(request: Request) -> dict[str, str]:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise SignInRequired
    try:
        session = _serializer(request, "session").loads(raw, max_age=SESSION_TTL_S)
    except BadSignature:  # also covers an expired signature
        raise SignInRequired from None
    if not isinstance(session, dict) or not all(
        isinstance(session.get(k), str) for k in ("sid", "org", "csrf")
    ):
        raise SignInRequired  # also a cookie from before sessions were kept on the server
    if not (isinstance(session.get("uid"), str) or isinstance(session.get("kid"), str)):
        raise SignInRequired
    return session


async def current_user(request: Request) -> UiUser:
    """The session's person (or key); the session row and the account (or key) are read on every
    request, so signing out, disabling the account or revoking the key ends the session, and a
    changed role counts from the next request."""
    session = _session_of(request)
    state = app_state(request)
    session_id, org, csrf = session["sid"], session["org"], session["csrf"]
    if "uid" in session:
        account = await accounts.session_account(
            state.db, session_id, org, session["uid"], state.signin_clock()
        )
        if account is None:
            raise SignInRequired
        if account.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
            raise PasswordChangeRequired
        actor = Actor(account.org_uuid, account.uuid, None, ROLE_SCOPES[account.role], "USER", person=True)
        permissions = ROLE_PERMISSIONS[account.role]
        return UiUser(actor, csrf, session_id, account.name, permissions, account.role, account)
    if not state.settings.ui_api_key_signin:
        raise SignInRequired  # the setting was turned off: sessions of keys end with it
    record = await apikeys.session_key(state.db, session_id, org, session["kid"])
    if record is None:
        raise SignInRequired
    scopes = frozenset(record.scopes.split())
    actor = Actor(record.org_uuid, record.sub, None, scopes, "USER")
    name = record.label or f"API key {record.key_id[:8]}"
    return UiUser(actor, csrf, session_id, name, key_permissions(scopes), key_id=record.key_id)


async def signed_in_or_none(request: Request) -> UiUser | None:
    try:
        return await current_user(request)
    except (SignInRequired, PasswordChangeRequired):
        return None


def require(user: UiUser, permission: Permission) -> None:
    """403 (the error page, nothing changed) unless the person's role, or the key's scopes, allow it."""
    if user.can(permission):
        return
    if user.role is not None:
        raise forbidden(
            f"Your role ({user.role.value}) does not allow this. "
            "Ask your organization's owner if you need it."
        )
    needed = SCOPES_NEEDED.get(permission)
    if needed is None:
        raise forbidden("Only a person with the owner role can do this; an API key cannot.")
    raise forbidden(f"This API key lacks the {needed} scope needed for this page")


def check_csrf(expected: str, form_token: object) -> None:
    """A POST without the session's token (a forged cross-site form) is refused with 403."""
    if not isinstance(form_token, str) or not hmac.compare_digest(expected.encode(), form_token.encode()):
        raise ServiceError(
            "The form has expired or did not come from this site. Reload the page and try again.",
            403,
            "FORBIDDEN",
        )


def issue_signin_token(request: Request) -> str:
    """The sign-in form's CSRF token: the one already in the sign-in cookie, or a new one."""
    return signin_token_from_cookie(request) or secrets.token_urlsafe(32)


def attach_signin_token(request: Request, response: Response, token: str) -> None:
    """Keep the sign-in token in a short-lived signed cookie; the POST must echo it (double submit)."""
    _set_cookie(request, response, SIGNIN_COOKIE, _serializer(request, "signin").dumps(token), SIGNIN_TTL_S)


def signin_token_from_cookie(request: Request) -> str | None:
    raw = request.cookies.get(SIGNIN_COOKIE)
    if not raw:
        return None
    try:
        value = _serializer(request, "signin").loads(raw, max_age=SIGNIN_TTL_S)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None
