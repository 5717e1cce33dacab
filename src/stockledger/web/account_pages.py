"""Your account: who you are signed in as, and changing your own password (every role may)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import MIN_PASSWORD_CHARS
from stockledger.domain.errors import forbidden
from stockledger.plumbing import app_state
from stockledger.service import accounts
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_PASSWORD_FIELD_CHARS = 4096  # the rest is never looked at (a password is at most 1024)


def _render(request: Request, user: session.UiUser, extra: dict[str, Any], status: int = 200) -> Response:
    context: dict[str, Any] = {
        "user": user,
        "active": "",
        "title": "Your account",
        "min_chars": MIN_PASSWORD_CHARS,
        "error": None,
        "changed": request.query_params.get("changed") == "1",
    }
    context.update(extra)
    return page(request, "account.html", context, status)


@router.get("/ui/account")
async def account_page(request: Request) -> Response:
    user = await session.current_user(request)
    return _render(request, user, {})


@router.post("/ui/account/password")
async def change_password(request: Request) -> Response:
    """Any role may change their own password: the current one must be right (a wrong one counts
    towards the lock-out); the person's other sessions end, this one goes on."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    if user.account is None:
        raise forbidden("A session of an API key has no password to change.")
    current, new, repeated = (
        str(form.get(name, ""))[:MAX_PASSWORD_FIELD_CHARS] for name in ("current", "new", "repeat")
    )
    if new != repeated:
        return _render(request, user, {"error": "The two new passwords differ."}, 400)
    state = app_state(request)
    refused = await accounts.change_own_password(
        state.db, user.account, current, new, session_id=user.session_id, now_ms=state.signin_clock()
    )
    if refused is not None:
        return _render(request, user, {"error": refused}, 400)
    return RedirectResponse("/ui/account?changed=1", status_code=303)
