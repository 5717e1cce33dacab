"""Access tokens and API keys: minting and verifying the JWTs of spec §2.

Access tokens and API keys are HS256 JWTs signed with the server secret. They are told apart by
the `token_use` claim, so an API key can never be used as an access token (nor the reverse). An
access token exchanged for an API key names it (`api_key_id`): it is refused once the key is
revoked (api/auth.py reads the key's state on every request). Tokens minted by `stockledger token`
name no key and live until they expire.

An API key carries the claims of a Zettle API key (`iss`, `aud`, `exp`, `sub`, `iat`, `renewed`,
`scope` as a list, `user`, `type`, `client_id`), because integrations decode the key they are given
(to find its user and its client id), with this server's own claims (`kid`, `org`, `token_use`)
beside them. Keys issued before they carried Zettle's claims stay valid.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import jwt

from stockledger.domain.ids import canonical_uuid, new_uuid1

if TYPE_CHECKING:
    from jwt.types import Options

ALGORITHM = "HS256"
LEEWAY_S = 5  # clock skew tolerated on `exp` (and `iat`/`nbf`)
ACCESS_TOKEN_TTL_S = 7200  # Zettle's access tokens live two hours
DEFAULT_SCOPES = "READ:PRODUCT WRITE:PRODUCT READ:PURCHASE WRITE:PURCHASE"
# The scopes a token may carry: those stockledger checks, and those Zettle integrations ask a
# merchant for (a key for such an integration must be able to carry them).
KNOWN_SCOPES = (
    "READ:PRODUCT",
    "WRITE:PRODUCT",
    "READ:PURCHASE",
    "WRITE:PURCHASE",
    "READ:USERINFO",
    "WRITE:USERINFO",
    "READ:FINANCE",
)
TOKEN_USE_ACCESS = "access"
TOKEN_USE_API_KEY = "api_key"
API_KEY_CLAIM = "api_key_id"  # in an access token: the API key it was exchanged for
# The Zettle claims of an API key (a Zettle key says iss "iZettle"; this server names itself).
API_KEY_ISSUER = "stockledger"
API_KEY_AUDIENCE = "API"
API_KEY_TYPE = "user-assertion"
API_KEY_USER_ROLE = "OWNER"
API_KEY_TTL_S = 30 * 365 * 86400  # Zettle's keys live about 30 years; revoke a key to end it sooner


class TokenError(Exception):
    """The token is missing, malformed, badly signed, expired or of the wrong kind."""


class TokenExpired(TokenError):
    """The token is well formed and signed, of the right kind, but past its `exp`."""


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


def mint_api_key(
    secret: str,
    *,
    org: str,
    sub: str,
    scopes: str,
    client_id: str | None = None,
    ttl_s: int = API_KEY_TTL_S,
    now_s: int | None = None,
) -> tuple[str, str]:
    """A new API key; returns (key_id, key). The caller records key_id so it can be revoked.

    `client_id` (a UUID; a new version-1 UUID when not given, as Zettle's are) is the key's client:
    access tokens exchanged for the key carry it, and so does every event their changes cause."""
    key_id = secrets.token_hex(8)
    issued = int(time.time()) if now_s is None else now_s
    claims: dict[str, Any] = {
        "iss": API_KEY_ISSUER,
        "aud": API_KEY_AUDIENCE,
        "exp": issued + ttl_s,
        "sub": sub,
        "iat": issued,
        "renewed": False,
        "scope": scopes.split(),
        "user": {"userType": "USER", "uuid": sub, "orgUuid": org, "userRole": API_KEY_USER_ROLE},
        "type": API_KEY_TYPE,
        "client_id": client_id or new_uuid1(),
        "kid": key_id,
        "org": org,
        "token_use": TOKEN_USE_API_KEY,
    }
    return key_id, jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": key_id})


def _decode(secret: str, token: str, required: list[str], token_use: str) -> tuple[dict[str, Any], bool]:
    """The claims of a token of kind `token_use` signed with `secret`, and whether it has expired.

    Every other check is made on an expired token too, so the caller reports expiry only for a token
    that is otherwise good (an expired API key offered as a bearer token is no access token)."""
    # `aud` is a Zettle claim of API keys, informative only: the kind is told by `token_use`.
    options: Options = {"require": required, "verify_aud": False}
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options=options, leeway=LEEWAY_S
        )
        expired = False
    except jwt.ExpiredSignatureError:
        expired = True
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    if expired:
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={**options, "verify_exp": False},
                leeway=LEEWAY_S,
            )
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
    # Tokens from before `token_use` existed are access tokens.
    if claims.get("token_use", TOKEN_USE_ACCESS) != token_use:
        raise TokenError("not an access token" if token_use == TOKEN_USE_ACCESS else "not an API key")
    return claims, expired


def verify_access_token_expiry(secret: str, token: str) -> tuple[Principal, int]:
    """The token's Principal and its `exp` (seconds): it stays acceptable while now - LEEWAY_S < exp."""
    claims, expired = _decode(secret, token, ["exp", "sub", "org"], TOKEN_USE_ACCESS)
    principal = principal_from_claims(claims)
    key_id = claims.get(API_KEY_CLAIM)
    if key_id is not None:
        if not isinstance(key_id, str) or not key_id:
            raise TokenError("token names an invalid API key")
        principal = replace(principal, key_id=key_id)
    if expired:
        raise TokenExpired("token has expired")
    return principal, int(claims["exp"])


def principal_from_claims(
    claims: dict[str, Any], org_claim: str = "org", scope_claim: str = "scope"
) -> Principal:
    """Normalise claims (scope as a space-separated string or an `scp` list) into a Principal.

    The client id is kept only when it is a UUID (events carry it as `clientUuid`, which typed
    consumers read as a UUID or null): a token from before POST /token required one, or a provider's
    token with another form of client id, acts with no client."""
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
    return Principal(org, sub, scopes, canonical_uuid(claims.get("client_id")))


def verify_api_key(secret: str, key: str) -> dict[str, Any]:
    """Claims of a structurally valid, unexpired API key signed by this server (the caller checks its
    record). Keys from before Zettle's claims have no `exp`: they do not expire."""
    claims, expired = _decode(secret, key, ["kid", "org", "sub"], TOKEN_USE_API_KEY)
    if expired:
        raise TokenExpired("the API key has expired")
    return claims


def api_key_client_id(claims: dict[str, Any]) -> str | None:
    """The client id an API key names (None for keys issued before keys carried one)."""
    return canonical_uuid(claims.get("client_id"))
