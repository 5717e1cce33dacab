"""Bearer-token authentication, scopes and the `{org}` path rule (spec §2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Depends, Request

from stockledger.api import idempotency
from stockledger.domain.errors import access_token_expired, forbidden, unauthenticated
from stockledger.domain.ids import canonical_uuid
from stockledger.plumbing import READ_PRODUCT, WRITE_PRODUCT, app_state
from stockledger.service.context import Actor
from stockledger.tokens import TokenError, TokenExpired


async def authenticate(request: Request) -> Actor:
    """The caller from `Authorization: Bearer …`; else 401 ACCESS_TOKEN_EXPIRED for an expired token,
    401 UNAUTHENTICATED for a missing, malformed or forged one (spec §2)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("Missing bearer token")
    state = app_state(request)
    try:
        principal = await state.verifier.verify(token.strip())
    except TokenExpired:
        raise access_token_expired() from None
    except TokenError as exc:
        raise unauthenticated(str(exc)) from None
    # A token exchanged for an API key lives only as long as the key: its state is read on every
    # request, so a revocation ends the token at once in every process.
    if principal.key_id is not None and not await state.key_status.active(principal.key_id, principal.org):
        raise unauthenticated("The API key this token was issued for is revoked or unknown")
    return Actor(principal.org, principal.sub, principal.client_id, principal.scopes)


def check_org(actor: Actor, org_param: str | None) -> None:
    """`{org}` is `self` or the token's organization; any other value → 403 (never reveal existence)."""
    if org_param is None or org_param == "self":
        return
    if canonical_uuid(org_param) != actor.org:
        raise forbidden("Not allowed to access this organization")


DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])


def bearer(dependency: DependencyT) -> DependencyT:
    """Marks a dependency that authenticates its caller by bearer token: the API documentation
    names the bearer scheme (and 401/403/429) on every route that uses one."""
    dependency.bearer_auth = True  # type: ignore[attr-defined]
    return dependency


def requires(*scopes: str) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency: authenticated caller with every one of `scopes`, allowed on the path's `{org}`,
    within the organization's rate limit; then the request's Idempotency-Key (a replay answers here)."""

    async def dependency(request: Request) -> Actor:
        actor = await authenticate(request)
        check_org(actor, request.path_params.get("org"))
        app_state(request).rate_limiter.check(actor.org)
        missing = [s for s in scopes if s not in actor.scopes]
        if missing:
            raise forbidden(f"Missing scope {' '.join(missing)}")
        await idempotency.admit(request, actor.org)  # last: a replay is for admitted callers only
        return actor

    return bearer(dependency)


Reader = Depends(requires(READ_PRODUCT))
Writer = Depends(requires(WRITE_PRODUCT))
