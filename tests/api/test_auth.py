"""Authentication and scopes (spec §2): bearer tokens, the API-key exchange at POST /token, /users/self."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import Result
from typer.testing import CliRunner

from stockledger.cli import app as cli
from stockledger.tokens import mint_access_token, mint_api_key
from tests.conftest import TEST_SECRET, Api, new_uuid

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PROTECTED = [
    ("GET", "/organizations/self/locations"),
    ("GET", "/inventory"),
    ("PUT", "/organizations/self/inventory"),
    ("GET", "/users/self"),
]


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errorType"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_missing_token_is_unauthenticated(client: httpx.AsyncClient, method: str, path: str) -> None:
    assert_unauthenticated(await client.request(method, path))


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "bearer x y", "Token abc"]
)
async def test_malformed_authorization_is_unauthenticated(client: httpx.AsyncClient, header: str) -> None:
    assert_unauthenticated(await client.get("/inventory", headers={"Authorization": header}))


async def test_badly_signed_token_is_unauthenticated(client: httpx.AsyncClient) -> None:
    token = mint_access_token("another-secret-" + "y" * 40, org=new_uuid())
    assert_unauthenticated(await client.get("/inventory", headers={"Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_expired_token_says_so(api: Api, method: str, path: str) -> None:
    """Clients re-authenticate on exactly ACCESS_TOKEN_EXPIRED (any other 401 stops them)."""
    token = mint_access_token(TEST_SECRET, org=api.org, ttl_s=60, now_s=1_000_000)
    response = await api.client.request(method, path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["errorType"] == "ACCESS_TOKEN_EXPIRED" and isinstance(body["developerMessage"], str)


async def test_expired_and_forged_or_of_another_kind_is_unauthenticated(api: Api) -> None:
    """Expiry is only reported for a token that is otherwise good."""
    forged = mint_access_token("another-secret-" + "y" * 40, org=api.org, ttl_s=60, now_s=1_000_000)
    _, expired_key = mint_api_key(
        TEST_SECRET, org=api.org, sub=new_uuid(), scopes="READ:PRODUCT", ttl_s=60, now_s=1_000_000
    )
    for token in (forged, expired_key):
        assert_unauthenticated(
            await api.client.get("/inventory", headers={"Authorization": f"Bearer {token}"})
        )


async def test_token_without_organization_is_unauthenticated(api: Api) -> None:
    token = api.token(org="not-a-uuid")
    assert_unauthenticated(await api.client.get("/inventory", headers={"Authorization": f"Bearer {token}"}))


async def test_api_key_used_as_bearer_token_is_unauthenticated(api: Api) -> None:
    _, key = mint_api_key(TEST_SECRET, org=api.org, sub=new_uuid(), scopes="READ:PRODUCT")
    assert_unauthenticated(await api.client.get("/inventory", headers={"Authorization": f"Bearer {key}"}))


async def test_write_scope_does_not_imply_read(api: Api) -> None:
    writer = Api(api.client, api.org, scopes="WRITE:PRODUCT")
    response = await writer.get("/inventory")
    assert response.status_code == 403 and response.json()["errorType"] == "FORBIDDEN"
    assert (
        await writer.post("/organizations/self/inventory", json={"productUuid": new_uuid()})
    ).status_code == 200


async def test_read_scope_cannot_write(api: Api) -> None:
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    assert (await reader.get("/inventory")).status_code == 200
    for method, path, body in [
        ("POST", "/organizations/self/inventory", {"productUuid": new_uuid()}),
        ("PUT", "/organizations/self/inventory", {"changes": []}),
        ("POST", "/organizations/self/v2/inventory/bulk", {"productChanges": []}),
        ("DELETE", f"/organizations/self/inventory/products/{new_uuid()}", None),
    ]:
        response = await reader.request(method, path, json=body)
        assert response.status_code == 403, (method, path)


async def test_products_query_is_a_read(api: Api) -> None:
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    response = await reader.post("/organizations/self/inventory/products", json={"productUuids": []})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/users/self", "/users/me", "/users/self/"])
async def test_current_user(api: Api, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 200
    assert response.json() == {"uuid": api.sub, "organizationUuid": api.org}


def invoke(args: list[str]) -> Result:
    """Run the CLI as an operator would (it calls asyncio.run, so never on the test's event loop)."""
    result = CliRunner().invoke(cli, args, env={"STOCKLEDGER_SECRET": TEST_SECRET})
    assert result.exit_code == 0, result.output
    return result


async def create_key(org: str, scope: str, common: list[str]) -> tuple[str, str]:
    result = await asyncio.to_thread(invoke, ["apikey", "create", "--org", org, "--scope", scope, *common])
    return result.stderr.split("key id:")[1].strip(), result.stdout.strip()


async def test_api_key_from_cli_exchanges_for_access_token_until_revoked(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    common = ["--database-url", database_url, "--data-dir", str(tmp_path)]
    key_id, key = await create_key(api.org.upper(), "READ:PRODUCT", common)
    listed = await asyncio.to_thread(invoke, ["apikey", "list", "--org", api.org, *common])
    assert key_id in listed.stdout and key not in listed.stdout

    form = {"grant_type": GRANT, "client_id": new_uuid(), "assertion": key}
    response = await api.client.post("/token", data=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "expires_in"} and body["expires_in"] == 7200
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    locations = await api.client.get("/organizations/self/locations", headers=headers)
    assert locations.status_code == 200
    assert (await api.client.get("/users/self", headers=headers)).json()["organizationUuid"] == api.org
    # The key carried READ only.
    assert (
        await api.client.put("/organizations/self/inventory", json={"changes": []}, headers=headers)
    ).status_code == 403

    await asyncio.to_thread(invoke, ["apikey", "revoke", key_id, *common])
    response = await api.client.post("/token", data=form)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "assertion",
    ["", "garbage", "a.b.c", "unrecorded", "wrong-signature", "access-token"],
)
async def test_unknown_or_malformed_api_key_is_an_invalid_grant(api: Api, assertion: str) -> None:
    if assertion == "unrecorded":  # well signed, but the server never issued it
        assertion = mint_api_key(TEST_SECRET, org=api.org, sub=new_uuid(), scopes="READ:PRODUCT")[1]
    elif assertion == "wrong-signature":
        assertion = mint_api_key("other-" + "z" * 40, org=api.org, sub=new_uuid(), scopes="READ:PRODUCT")[1]
    elif assertion == "access-token":
        assertion = api.token()
    response = await api.client.post("/token", data={"grant_type": GRANT, "assertion": assertion})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("grant", ["", "password", "client_credentials"])
async def test_wrong_grant_type_is_unsupported(api: Api, grant: str) -> None:
    response = await api.client.post("/token", data={"grant_type": grant, "assertion": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("variant", ["alg-none", "no-exp", "other-algorithm"])
async def test_tokens_outside_the_accepted_form_are_unauthenticated(api: Api, variant: str) -> None:
    claims = {"sub": api.sub, "org": api.org, "scope": "READ:PRODUCT", "exp": int(time.time()) + 600}
    if variant == "alg-none":
        token = jwt.encode(claims, key=None, algorithm="none")
    elif variant == "no-exp":
        token = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, TEST_SECRET, algorithm="HS256")
    else:
        token = jwt.encode(claims, TEST_SECRET, algorithm="HS384")
    assert_unauthenticated(await api.client.get("/inventory", headers={"Authorization": f"Bearer {token}"}))
