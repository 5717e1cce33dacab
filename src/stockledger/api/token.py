"""Token exchange (Zettle's jwt-bearer assertion grant) and the current user (spec §2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from stockledger.api.auth import authenticate
from stockledger.api.responses import json_response
from stockledger.api.wire import ErrorOut, OAuthErrorOut, TokenOut, UserOut
from stockledger.domain.ids import canonical_uuid
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
    """Exchange an API key (the assertion) for a two-hour access token.

    `client_id`, when sent, must be a UUID (Zettle's client ids are; events carry it as
    `clientUuid`). The token acts for the client the key names, as Zettle's do: integrations send
    their own partner id here and recognise their own changes in webhooks by the key's `client_id`.
    A key issued before keys named a client acts for the `client_id` sent, or for none."""
    if grant_type != JWT_BEARER_GRANT:
        return _oauth_error("unsupported_grant_type", f"grant_type must be {JWT_BEARER_GRANT}")
    requested_client = canonical_uuid(client_id) if client_id else None
    if client_id and requested_client is None:
        return _oauth_error("invalid_request", "client_id must be a UUID")
    state = app_state(request)
    try:
        key = await apikeys.verify_api_key(state.db, state.secret, assertion)
    except apikeys.KeyRefused as exc:
        return _oauth_error("invalid_grant", str(exc))
    access = mint_access_token(
        state.secret,
        org=key.record.org_uuid,
        sub=key.record.sub,
        scopes=key.record.scopes,
        client_id=key.client_id or requested_client,
        key_id=key.record.key_id,  # revoking the key ends this token too (api/auth.authenticate)
    )
    return json_response({"access_token": access, "expires_in": ACCESS_TOKEN_TTL_S})


_ANY_TOKEN: dict[str, Any] = {"openapi_extra": {"security": [{"bearerAuth": []}]}}  # a token, no scope


@router.get("/users/self", response_model=UserOut, **_ANY_TOKEN)
@router.get("/users/me", response_model=UserOut, operation_id="usersMe", **_ANY_TOKEN)
async def users_self(request: Request) -> Response:
    """The caller: its user UUID and organization (any valid access token)."""
    actor = await authenticate(request)
    return json_response({"uuid": actor.sub, "organizationUuid": actor.org})
