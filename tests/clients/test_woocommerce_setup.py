"""The WooCommerce "PayPal Point of Sale" plugin: onboarding and its periodic health check.

It validates the key with `GET /users/me` on the OAuth host (only a 2xx matters), then reads the
organization at `/api/resources/organizations/self` (no trailing slash) and builds it with
`?string` fields, a non-null numeric `vatPercentage` for a VAT organization, a valid IANA
`timeZone` and the taxation fields (integration-client-calls.md §2).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from tests.clients.php_types import ORGANIZATION_TEXT_FIELDS, is_nullable_string, is_php_float, is_php_int
from tests.conftest import Api

ORGANIZATION_PATH = "/api/resources/organizations/self"
# The plugin's HTTP client sends JSON headers on every request, GETs included.
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


async def test_users_me_answers_2xx_with_the_user_and_organization(api: Api) -> None:
    response = await api.get("/users/me", headers=JSON_HEADERS)
    assert response.status_code == 200, response.text
    assert response.json() == {"uuid": api.sub, "organizationUuid": api.org}
    assert (await api.get("/users/self", headers=JSON_HEADERS)).json() == response.json()


async def test_users_me_refuses_a_missing_token_so_the_plugin_reauthenticates(api: Api) -> None:
    response = await api.client.get("/users/me", headers=JSON_HEADERS)
    assert response.status_code == 401
    assert isinstance(response.json()["errorType"], str)


async def test_the_organization_builds_as_the_plugin_builds_it(api: Api) -> None:
    response = await api.get(ORGANIZATION_PATH, headers=JSON_HEADERS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["uuid"], str) and body["uuid"] == api.org
    assert isinstance(body["currency"], str) and len(body["currency"]) == 3
    # VAT organization: the plugin builds a non-nullable VAT rate from vatPercentage.
    assert body["taxationType"] == "VAT" and body["taxationMode"] == "INCLUSIVE"
    assert body["vatPercentage"] is not None and is_php_float(body["vatPercentage"])
    zoneinfo.ZoneInfo(body["timeZone"])
    datetime.strptime(body["created"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert is_php_int(body["organizationId"])
    for name in ORGANIZATION_TEXT_FIELDS:
        assert is_nullable_string(body[name]), (name, body[name])


async def test_the_vat_rate_and_time_zone_follow_the_settings(api: Api) -> None:
    changes = {"vatPercentage": "12.5", "timeZone": "America/New_York", "currency": "USD"}
    assert (await api.put("/organizations/self/settings", json=changes)).status_code == 200
    body = (await api.get(ORGANIZATION_PATH, headers=JSON_HEADERS)).json()
    assert body["vatPercentage"] == 12.5
    assert body["timeZone"] == "America/New_York"
    assert body["currency"] == "USD"


async def test_the_organization_answer_is_the_same_on_every_call(api: Api) -> None:
    """The plugin caches it for five minutes and compares nothing, but ids must not drift."""
    first = (await api.get(ORGANIZATION_PATH, headers=JSON_HEADERS)).json()
    second = (await api.get(ORGANIZATION_PATH, headers=JSON_HEADERS)).json()
    assert first == second
