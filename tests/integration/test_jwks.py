"""Tokens of an external identity provider: JWKS caching, refresh rate limit, rotation, refusals."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from stockledger.api.state import TokenVerifier
from stockledger.jwks import JwksVerifier
from stockledger.tokens import TokenError, mint_access_token
from tests.jwks_provider import (
    AUDIENCE,
    ISSUER,
    Provider,
    SigningKey,
    claims,
    hmac_token,
    running_provider,
    unsigned_token,
)

SECRET = "server-secret-" + "y" * 40


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey.rsa()


@pytest.fixture
def provider(rsa_key: SigningKey) -> Iterator[Provider]:
    with running_provider(rsa_key) as running:
        yield running


def make_verifier(provider: Provider, clock: FakeClock | None = None, **overrides: Any) -> JwksVerifier:
    options: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "fallback": TokenVerifier(SECRET)}
    options.update(overrides)
    if clock is not None:
        options["clock"] = clock
    return JwksVerifier(provider.url, **options)


async def test_rs256_token_signed_by_a_published_key_is_accepted(
    provider: Provider, rsa_key: SigningKey
) -> None:
    org = str(uuid.uuid4())
    principal = await make_verifier(provider).verify(rsa_key.sign(claims(org.upper())))
    assert principal.org == org
    assert principal.scopes == {"READ:PRODUCT", "WRITE:PRODUCT"}


async def test_es256_token_with_custom_claim_names_and_scp_list_is_accepted(provider: Provider) -> None:
    key = SigningKey.ec()
    provider.publish(key)
    org = str(uuid.uuid4())
    token = key.sign(claims(None, tenant=org, scope=None, scp=["READ:PRODUCT"]))  # type: ignore[arg-type]
    verifier = make_verifier(provider, org_claim="tenant", scope_claim="permissions")
    principal = await verifier.verify(token)
    assert (principal.org, principal.scopes) == (org, {"READ:PRODUCT"})


async def test_keys_are_cached_between_tokens(provider: Provider, rsa_key: SigningKey) -> None:
    verifier = make_verifier(provider)
    for _ in range(5):
        await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    assert provider.hits == 1


async def test_rotated_key_is_fetched_on_first_use_without_restart(
    provider: Provider, rsa_key: SigningKey
) -> None:
    clock = FakeClock()
    verifier = make_verifier(provider, clock)
    await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    clock.now += 60  # the provider rotates a while later
    new_key = SigningKey.ec()
    provider.publish(new_key)
    principal = await verifier.verify(new_key.sign(claims(str(uuid.uuid4()))))
    assert principal.scopes
    assert provider.hits == 2
    # The withdrawn key is gone from the cache with the refresh.
    with pytest.raises(TokenError, match="unknown signing key"):
        await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))


async def test_unknown_kids_refresh_at_most_once_per_interval(
    provider: Provider, rsa_key: SigningKey
) -> None:
    clock = FakeClock()
    verifier = make_verifier(provider, clock, min_refresh_interval_s=30)
    await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    assert provider.hits == 1
    clock.now += 60
    forged = [rsa_key.sign(claims(str(uuid.uuid4())), kid=f"bogus-{i}") for i in range(40)]
    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
    assert all(isinstance(r, TokenError) for r in results)
    assert provider.hits == 2  # one refresh for the whole flood (the first unknown kid)
    clock.now += 10
    for token in forged[:10]:
        with pytest.raises(TokenError):
            await verifier.verify(token)
    assert provider.hits == 2  # still inside the interval
    clock.now += 25
    with pytest.raises(TokenError):
        await verifier.verify(forged[0])
    assert provider.hits == 3  # the interval has passed: one more refresh
    # Known keys keep working all along without any fetch.
    await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    assert provider.hits == 3


async def test_a_key_published_during_the_rate_limit_waits_for_the_interval(
    provider: Provider, rsa_key: SigningKey
) -> None:
    clock = FakeClock()
    verifier = make_verifier(provider, clock)
    await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    new_key = SigningKey.ec()
    provider.publish(rsa_key, new_key)
    with pytest.raises(TokenError):
        await verifier.verify(new_key.sign(claims(str(uuid.uuid4()))))
    clock.now += 31
    assert (await verifier.verify(new_key.sign(claims(str(uuid.uuid4()))))).org


async def test_keys_are_re_read_when_older_than_max_age(provider: Provider, rsa_key: SigningKey) -> None:
    clock = FakeClock()
    verifier = make_verifier(provider, clock, max_key_age_s=3600)
    await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    provider.publish(SigningKey.ec())  # the provider withdrew the old key
    clock.now += 3601
    with pytest.raises(TokenError, match="unknown signing key"):
        await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    assert provider.hits == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iss": "https://evil.example.test/"}, "issuer"),
        ({"aud": "someone-else"}, "(?i)audience"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"exp": None}, "exp"),
    ],
    ids=["wrong-issuer", "wrong-audience", "expired", "no-expiry"],
)
async def test_provider_token_with_bad_claims_is_refused(
    provider: Provider, rsa_key: SigningKey, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        await make_verifier(provider).verify(rsa_key.sign(claims(str(uuid.uuid4()), **overrides)))


async def test_alg_none_token_is_refused(provider: Provider, rsa_key: SigningKey) -> None:
    token = unsigned_token(claims(str(uuid.uuid4())), {"alg": "none", "typ": "JWT", "kid": rsa_key.kid})
    with pytest.raises(TokenError, match="not accepted"):
        await make_verifier(provider).verify(token)


@pytest.mark.parametrize("with_fallback", [True, False], ids=["own-tokens-on", "own-tokens-off"])
async def test_hs256_token_signed_with_the_public_key_is_refused(
    provider: Provider, rsa_key: SigningKey, with_fallback: bool
) -> None:
    token = hmac_token(claims(str(uuid.uuid4())), rsa_key.public_pem(), rsa_key.kid)
    verifier = make_verifier(provider, fallback=TokenVerifier(SECRET) if with_fallback else None)
    with pytest.raises(TokenError):
        await verifier.verify(token)


async def test_es256_header_on_an_rsa_key_is_refused(provider: Provider, rsa_key: SigningKey) -> None:
    forged = SigningKey(rsa_key.kid, "ES256", SigningKey.ec().private)
    with pytest.raises(TokenError):
        await make_verifier(provider).verify(forged.sign(claims(str(uuid.uuid4()))))


async def test_servers_own_hs256_tokens_stay_valid_next_to_the_provider(provider: Provider) -> None:
    org = str(uuid.uuid4())
    token = mint_access_token(SECRET, org=org)
    assert (await make_verifier(provider).verify(token)).org == org
    assert provider.hits == 0  # never needed the provider
    with pytest.raises(TokenError):
        await make_verifier(provider, fallback=None).verify(token)


async def test_unreachable_provider_refuses_tokens_and_keeps_cached_keys(
    provider: Provider, rsa_key: SigningKey
) -> None:
    clock = FakeClock()
    verifier = make_verifier(provider, clock)
    await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    provider.status = 503
    clock.now += 4000  # keys are stale: a refresh is attempted and fails
    assert (await verifier.verify(rsa_key.sign(claims(str(uuid.uuid4()))))).org
    assert provider.hits == 2

    down = JwksVerifier("http://127.0.0.1:9/jwks.json", issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(TokenError, match="unknown signing key"):
        await down.verify(rsa_key.sign(claims(str(uuid.uuid4()))))


async def test_jwks_fetch_does_not_block_the_event_loop(provider: Provider, rsa_key: SigningKey) -> None:
    provider.delay_s = 0.3
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await make_verifier(provider).verify(rsa_key.sign(claims(str(uuid.uuid4()))))
    finally:
        task.cancel()
    assert ticks >= 10  # the loop kept running while the provider was slow


async def test_single_key_provider_may_omit_kid(provider: Provider, rsa_key: SigningKey) -> None:
    token = jwt.encode(claims(str(uuid.uuid4())), rsa_key.private, algorithm="RS256")  # no kid header
    assert (await make_verifier(provider).verify(token)).org
    provider.publish(rsa_key, SigningKey.ec())
    with pytest.raises(TokenError, match="unknown signing key"):
        await make_verifier(provider).verify(token)  # ambiguous with two keys: refused
