"""Access tokens and API keys: minting and verifying the JWTs of spec §2.

Access tokens and API keys are HS256 JWTs signed with the server secret. They are told apart by
the `token_use` claim, so an API key can never be used as an access token (nor the reverse). An
access token exchanged for an API key names it (`api_key_id`): it is refused once the key is
revoked (api/auth.py reads the key's state on every request). Tokens minted by `stockledger token`
name no key and live until they expire.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import jwt

from stockledger.domain.ids import canonical_uuid

ALGORITHM = "HS256"
LEEWAY_S = 5  # clock skew tolerated on `exp` (and `iat`/`nbf`)
ACCESS_TOKEN_TTL_S = 7200  # Zettle's access tokens live two hours
DEFAULT_SCOPES = "READ:PRODUCT WRITE:PRODUCT READ:PURCHASE WRITE:PURCHASE"
TOKEN_USE_ACCESS = "access"
TOKEN_USE_API_KEY = "api_key"
API_KEY_CLAIM = "api_key_id"  # in an access token: the API key it was exchanged for


class TokenError(Exception):
    """The token is missing, malformed, badly signed, expired or of the wrong kind."""


@dataclass(frozen=True)
class Principal:
    org: str
    sub: str
    scopes: frozenset[str]
    client_id: str | None
    key_id: str | None = None  # the API key the token was exchanged for (revocable), if any


def parse_ttl(text: str) -> int:
    """'2h', '30m', '45s', '1d' or plain seconds → seconds."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def mint_access_token(
    secret: str,
    *,
    org: str,
    sub: str | None = None,
    scopes: str = DEFAULT_SCOPES,
    client_id: str | None = None,
    ttl_s: int = ACCESS_TOKEN_TTL_S,
    now_s: int | None = None,
    key_id: str | None = None,
) -> str:
    """An access token; `key_id` names the API key it is exchanged for (POST /token), so revoking
    the key ends the token too."""
    issued = int(time.time()) if now_s is None else now_s
    claims: dict[str, Any] = {
        "sub": sub or str(uuid.uuid4()),
        "org": org,
        "scope": scopes,
        "client_id": client_id,
        "iat": issued,
        "exp": issued + ttl_s,
        "token_use": TOKEN_USE_ACCESS,
    }
    if key_id is not None:
        claims[API_KEY_CLAIM] = key_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def mint_api_key(secret: str, *, org: str, sub: str, scopes: str) -> tuple[str, str]:
    """A new API key; returns (key_id, key). The caller records key_id so it can be revoked."""
    key_id = secrets.token_hex(8)
    claims = {
        "kid": key_id,
        "org": org,
        "sub": sub,
        "scope": scopes,
        "iat": int(time.time()),
        "token_use": TOKEN_USE_API_KEY,
    }
    return key_id, jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": key_id})


def _decode(secret: str, token: str, required: list[str]) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": required}, leeway=LEEWAY_S
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token has expired") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    return claims


def verify_access_token_expiry(secret: str, token: str) -> tuple[Principal, int]:
    """The token's Principal and its `exp` (seconds): it stays acceptable while now - LEEWAY_S < exp."""
    claims = _decode(secret, token, ["exp", "sub", "org"])
    if claims.get("token_use", TOKEN_USE_ACCESS) != TOKEN_USE_ACCESS:
        raise TokenError("not an access token")
    principal = principal_from_claims(claims)
    key_id = claims.get(API_KEY_CLAIM)
    if key_id is not None:
        if not isinstance(key_id, str) or not key_id:
            raise TokenError("token names an invalid API key")
        principal = replace(principal, key_id=key_id)
    return principal, int(claims["exp"])


def principal_from_claims(
    claims: dict[str, Any], org_claim: str = "org", scope_claim: str = "scope"
) -> Principal:
    """Normalise claims (scope as a space-separated string or an `scp` list) into a Principal."""
    org = canonical_uuid(claims.get(org_claim))
    sub = claims.get("sub")
    if org is None or not isinstance(sub, str) or not sub:
        raise TokenError("token lacks a valid organization or subject")
    raw_scope = claims.get(scope_claim, claims.get("scp", ""))
    if isinstance(raw_scope, str):
        scopes = frozenset(raw_scope.split())
    elif isinstance(raw_scope, list):
        scopes = frozenset(str(s) for s in raw_scope)
    else:
        scopes = frozenset()
    client_id = claims.get("client_id")
    return Principal(org, sub, scopes, client_id if isinstance(client_id, str) else None)


def verify_api_key(secret: str, key: str) -> dict[str, Any]:
    """Claims of a structurally valid API key signed by this server (the caller checks its record)."""
    claims = _decode(secret, key, ["kid", "org", "sub"])
    if claims.get("token_use") != TOKEN_USE_API_KEY:
        raise TokenError("not an API key")
    return claims
