"""Sessions: an API key signs in, a signed HttpOnly cookie keeps the session, CSRF guards POSTs.

The cookie names a session row (store/ui_sessions.py) that every request reads together with the
key's record: signing out deletes the row, so the session ends on the server and a copy of the
cookie is refused from then on; revoking the key ends it too."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from stockledger.domain.errors import ServiceError, forbidden
from stockledger.plumbing import app_state
from stockledger.service import apikeys
from stockledger.service.context import Actor

SESSION_COOKIE = "stockledger_session"
SIGNIN_COOKIE = "stockledger_signin"  # carries the sign-in form's CSRF token before a session exists
COOKIE_PATH = "/ui"
SESSION_TTL_S = 8 * 3600  # a working day; then the key is asked for again
SIGNIN_TTL_S = 3600
CSRF_FIELD = "csrf_token"
KEY_REFUSED = "This API key is not valid or has been revoked."
KEY_EXPIRED = "This API key has expired: issue a new one (stockledger apikey create)."


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""


@dataclass(frozen=True)
class UiUser:
    """The signed-in user: the API key's organization, subject and scopes, and the session's CSRF token."""

    actor: Actor
    key_id: str
    csrf_token: str
    session_id: str


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


async def sign_in(request: Request, response: Response, api_key: str) -> str | None:
    """Verify the key (signed by this server, unexpired, recorded, not revoked) and set the session
    cookie; None when signed in, else what the sign-in form tells the user."""
    state = app_state(request)
    try:
        record = (await apikeys.verify_api_key(state.db, state.secret, api_key.strip())).record
    except apikeys.KeyRefused as refused:
        return KEY_EXPIRED if refused.expired else KEY_REFUSED
    session_id = secrets.token_urlsafe(32)
    await apikeys.open_session(state.db, session_id, record, SESSION_TTL_S)
    session = {
        "sid": session_id,
        "kid": record.key_id,
        "org": record.org_uuid,
        "csrf": secrets.token_urlsafe(32),
    }
    _set_cookie(
        request, response, SESSION_COOKIE, _serializer(request, "session").dumps(session), SESSION_TTL_S
    )
    response.delete_cookie(SIGNIN_COOKIE, path=COOKIE_PATH)
    return None


async def sign_out(request: Request, response: Response, user: UiUser) -> None:
    """End the session on the server (its row is deleted) and ask the browser to drop the cookie."""
    await apikeys.end_session(app_state(request).db, user.session_id)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


async def current_user(request: Request) -> UiUser:
    """The session's user; the session row and the key are read on every request, so signing out
    or revoking the key ends the session."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise SignInRequired
    try:
        session = _serializer(request, "session").loads(raw, max_age=SESSION_TTL_S)
    except BadSignature:  # also covers an expired signature
        raise SignInRequired from None
    if not isinstance(session, dict) or not all(
        isinstance(session.get(k), str) for k in ("sid", "kid", "org", "csrf")
    ):
        raise SignInRequired  # also a cookie from before sessions were kept on the server
    session_id, key_id, org = session["sid"], session["kid"], session["org"]
    record = await apikeys.session_key(app_state(request).db, session_id, org, key_id)
    if record is None:
        raise SignInRequired
    actor = Actor(record.org_uuid, record.sub, None, frozenset(record.scopes.split()), "USER")
    return UiUser(actor, record.key_id, session["csrf"], session_id)


async def signed_in_or_none(request: Request) -> UiUser | None:
    try:
        return await current_user(request)
    except SignInRequired:
        return None


def require_scope(user: UiUser, scope: str) -> None:
    if scope not in user.actor.scopes:
        raise forbidden(f"This API key lacks the {scope} scope needed for this page")


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
