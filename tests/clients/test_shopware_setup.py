"""Shopware's PayPal plugin (its Zettle part): the setup wizard's requests, exactly as it sends them.

The wizard validates the API key at `POST /token/`, then reads the organization from the "secure"
host at `/api/resources/organizations/self/` (trailing slash), hydrating every field into a struct
with typed setters (integration-client-calls.md §1). Every request carries the bearer token and
`X-iZettle-Application-Id`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.clients.php_types import (
    ORGANIZATION_TEXT_FIELDS,
    assert_no_empty_objects,
    is_nullable_string,
    is_php_float,
    is_php_int,
)
from tests.conftest import Api

ORGANIZATION_PATH = "/api/resources/organizations/self/"
# The plugin's partner id, sent on every call; stockledger must not care.
APPLICATION_HEADERS = {"X-iZettle-Application-Id": str(uuid.uuid4()), "Accept": "application/json"}


async def test_the_wizard_hydrates_every_organization_field_with_its_type(api: Api) -> None:
    response = await api.get(ORGANIZATION_PATH, headers=APPLICATION_HEADERS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)  # a null body makes the wizard report invalid credentials
    assert_no_empty_objects(body)
    for name in ORGANIZATION_TEXT_FIELDS:
        assert name in body, name
        assert is_nullable_string(body[name]), (name, body[name])
    assert is_php_float(body["vatPercentage"])
    assert is_php_int(body["organizationId"])
    assert body["usesVat"] is True
    assert body["uuid"] == api.org


async def test_the_wizard_finds_country_currency_and_locale_of_a_new_organization(api: Api) -> None:
    """Before the merchant sets anything the defaults are real ISO codes the shop can look up."""
    body = (await api.get(ORGANIZATION_PATH, headers=APPLICATION_HEADERS)).json()
    assert (body["country"], body["currency"], body["language"]) == ("SE", "SEK", "sv")
    assert isinstance(body["name"], str) and body["name"]
    datetime.strptime(body["created"], "%Y-%m-%dT%H:%M:%S.%f%z")


async def test_the_wizard_reads_what_the_merchant_set(api: Api) -> None:
    settings = {
        "name": "Kaffebaren",
        "country": "de",
        "currency": "eur",
        "language": "DE",
        "contactEmail": "shop@example.com",
        "vatPercentage": 19,
    }
    assert (await api.put("/organizations/self/settings", json=settings)).status_code == 200
    body = (await api.get(ORGANIZATION_PATH, headers=APPLICATION_HEADERS)).json()
    # The locale the wizard builds is `<language>-<country>`: de-DE.
    assert f"{body['language']}-{body['country']}" == "de-DE"
    assert body["currency"] == "EUR"
    assert body["name"] == "Kaffebaren"
    assert body["contactEmail"] == "shop@example.com"
    assert body["vatPercentage"] == 19.0 and is_php_float(body["vatPercentage"])


async def test_the_organization_is_served_with_and_without_the_trailing_slash(api: Api) -> None:
    with_slash = await api.get(ORGANIZATION_PATH, headers=APPLICATION_HEADERS)
    without = await api.get(ORGANIZATION_PATH.rstrip("/"), headers=APPLICATION_HEADERS)
    by_uuid = await api.get(f"/api/resources/organizations/{api.org}/", headers=APPLICATION_HEADERS)
    assert with_slash.status_code == without.status_code == by_uuid.status_code == 200
    assert with_slash.json() == without.json() == by_uuid.json()


async def test_a_bad_key_is_a_json_error_with_a_developer_message(api: Api) -> None:
    """The plugin turns any JSON error into an exception whose developerMessage must be a string."""
    response = await api.client.get(
        ORGANIZATION_PATH, headers={"Authorization": "Bearer not-a-token", **APPLICATION_HEADERS}
    )
    assert response.status_code == 401
    assert isinstance(response.json()["developerMessage"], str)
    assert isinstance(response.json()["errorType"], str)


async def test_another_organization_is_refused(api: Api) -> None:
    response = await api.get(f"/api/resources/organizations/{uuid.uuid4()}/", headers=APPLICATION_HEADERS)
    assert response.status_code == 403
    assert isinstance(response.json()["developerMessage"], str)
