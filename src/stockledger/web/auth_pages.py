"""Sign in with e-mail and password (or an API key, where the setting allows it), sign out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from stockledger.plumbing import app_state
from stockledger.web import session
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOME = "/ui/stock"
MAX_API_KEY_LEN = 4096  # API keys are short JWTs; anything longer is not one
MAX_EMAIL_LEN = 1000  # far above any address (254): the rest is never looked at


def safe_next(target: object) -> str:
    """Only back-office paths of this site are followed after signing in (no open redirect)."""
    if (
        isinstance(target, str)
        and target.startswith("/ui")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return HOME


def _form(
    request: Request,
    next_url: str,
    error: str | None,
    status: int = 200,
    *,
    email: str = "",
    key_error: str | None = None,
) -> Response:
    token = session.issue_signin_token(request)
    context = {
        "csrf_token": token,
        "next": next_url,
        "error": error,
        "key_error": key_error,
        "email": email,
        "key_signin": app_state(request).settings.ui_api_key_signin,
        "title": "Sign in",
    }
    response = page(request, "signin.html", context, status)
    session.attach_signin_token(request, response, token)
    return response


@router.get("/ui")
async def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/ui/signin")
async def signin_form(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if await session.signed_in_or_none(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    return _form(request, next_url, None)


@router.post("/ui/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    expected = session.signin_token_from_cookie(request)
    if expected is None:
        session.check_csrf("", None)  # no sign-in cookie: the form did not come from our page
    assert expected is not None
    session.check_csrf(expected, form.get(session.CSRF_FIELD))
    next_url = safe_next(form.get("next"))
    response = RedirectResponse(next_url, status_code=303)
    if "api_key" in form:
        api_key = form.get("api_key")
        if not isinstance(api_key, str) or not api_key.strip():
            return _form(request, next_url, None, 400, key_error="Enter an API key.")
        if len(api_key) > MAX_API_KEY_LEN:
            return _form(request, next_url, None, 400, key_error=session.KEY_REFUSED)
        refused = await session.sign_in_with_key(request, response, api_key)
        if refused is not None:
            return _form(request, next_url, None, 400, key_error=refused)
        return response
    email = str(form.get("email", ""))[:MAX_EMAIL_LEN].strip()
    password = str(form.get("password", ""))
    if not email or not password:
        return _form(request, next_url, "Enter your e-mail address and your password.", 400, email=email)
    refused = await session.sign_in(request, response, email, password)
    if refused is not None:
        return _form(request, next_url, refused, 400, email=email)
    return response


@router.post("/ui/signout")
async def signout(request: Request) -> Response:
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    response = RedirectResponse("/ui/signin", status_code=303)
    await session.sign_out(request, response, user)
    return response
