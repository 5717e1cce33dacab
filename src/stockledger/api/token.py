"""Token exchange (Zettle's jwt-bearer assertion grant) and the current user (spec §2)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from stockledger.api.auth import authenticate
from stockledger.api.responses import json_response
from stockledger.api.wire import ErrorOut, OAuthErrorOut, TokenOut, UserOut
from stockledger.plumbing import app_state
from stockledger.service import apikeys
from stockledger.tokens import ACCESS_TOKEN_TTL_S, mint_access_token

router = APIRouter(tags=["Authentication"], responses={401: {"model": ErrorOut}, 429: {"model": ErrorOut}})

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _oauth_error(error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, 400)


@router.post("/token", response_model=TokenOut, responses={400: {"model": OAuthErrorOut}})
async def token(
    request: Request,
    grant_type: str = Form(""),
    client_id: str | None = Form(None),
    assertion: str = Form(""),
) -> Response:
    """Exchange an API key (the assertion) for a two-hour access token."""
    if grant_type != JWT_BEARER_GRANT:
        return _oauth_error("unsupported_grant_type", f"grant_type must be {JWT_BEARER_GRANT}")
    state = app_state(request)
    try:
        record = await apikeys.verify_api_key(state.db, state.secret, assertion)
    except apikeys.KeyRefused as exc:
        return _oauth_error("invalid_grant", str(exc))
    access = mint_access_token(
        state.secret,
        org=record.org_uuid,
        sub=record.sub,
        scopes=record.scopes,
        client_id=client_id,
        key_id=record.key_id,  # revoking the key ends this token too (api/auth.authenticate)
    )
    return json_response({"access_token": access, "expires_in": ACCESS_TOKEN_TTL_S})


@router.get("/users/self", response_model=UserOut)
@router.get("/users/me", response_model=UserOut)
async def users_self(request: Request) -> Response:
    actor = await authenticate(request)
    return json_response({"uuid": actor.sub, "organizationUuid": actor.org})
