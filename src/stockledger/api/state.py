"""Bearer-token verification for the API: the server's own HS256 verifier, or a JWKS one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import TLRUCache

from stockledger.config import Settings
from stockledger.jwks import JwksVerifier, Verifier
from stockledger.tokens import LEEWAY_S, Principal, verify_access_token_expiry

VERIFIED_TOKENS_CACHED = 4096  # least recently used tokens are dropped beyond this


@dataclass
class TokenVerifier:
    """Verifies bearer tokens. HS256 with the server secret; an external JWKS verifier can replace it.

    A token that verified is remembered (by its exact text, signature included) until it expires, so a
    client reusing its token is not re-verified on every request. Verification is stateless, so this
    accepts exactly what verifying again would: the signature and claims cannot change for the same
    text, and the expiry is checked on every use with the same leeway. (API keys are never bearer
    tokens: they are refused here and exchanged at POST /token. Whether the key an access token
    names is still active is not a property of the text: `api/auth.authenticate` reads it from the
    database on every use, outside this memory.)"""

    secret: str
    clock: Callable[[], float] = time.time  # the clock PyJWT checks `exp` against
    _verified: TLRUCache[str, tuple[Principal, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # usable while now < exp + LEEWAY_S, the rule PyJWT applies (expired when exp <= now - leeway)
        self._verified = TLRUCache(
            VERIFIED_TOKENS_CACHED, ttu=lambda _token, hit, _now: hit[1] + LEEWAY_S, timer=self.clock
        )

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            return hit[0]
        principal, expires = verify_access_token_expiry(self.secret, token)
        self._verified[token] = (principal, expires)
        return principal


def verifier_for(settings: Settings, secret: str) -> Verifier:
    """The server's own HS256 verifier, wrapped by the identity provider's when a JWKS URL is set."""
    own = TokenVerifier(secret)
    if not settings.jwks_url:
        return own
    return JwksVerifier(
        settings.jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_claim=settings.jwt_org_claim,
        scope_claim=settings.jwt_scope_claim,
        fallback=own,  # `stockledger token` and POST /token keep working next to the provider
    )
