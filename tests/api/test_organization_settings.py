"""The organization's profile through the settings extension: partial updates, defaults, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

SETTINGS = "/organizations/self/settings"


async def test_a_new_organization_has_a_complete_default_profile(api: Api) -> None:
    body = (await api.get(SETTINGS)).json()
    assert body == {
        "allowNegativeStock": True,
        "name": api.org,
        "country": "SE",
        "currency": "SEK",
        "language": "sv",
        "timeZone": "Europe/Stockholm",
        "vatPercentage": 25.0,
        "contactEmail": None,
    }


async def test_settings_change_only_what_is_given(api: Api) -> None:
    response = await api.put(SETTINGS, json={"name": "Fika", "country": "no", "currency": "NOK"})
    assert response.status_code == 200, response.text
    assert (await api.put(SETTINGS, json={"language": "nb"})).status_code == 200
    assert (await api.put(SETTINGS, json={"allowNegativeStock": False})).status_code == 200
    body = (await api.get(SETTINGS)).json()
    assert (body["name"], body["country"], body["currency"], body["language"]) == ("Fika", "NO", "NOK", "nb")
    assert body["allowNegativeStock"] is False


async def test_null_returns_a_field_to_its_default(api: Api) -> None:
    await api.put(SETTINGS, json={"country": "DE", "contactEmail": "a@example.com", "vatPercentage": 19})
    response = await api.put(SETTINGS, json={"country": None, "contactEmail": None, "vatPercentage": None})
    assert response.status_code == 200
    body = response.json()
    assert (body["country"], body["contactEmail"], body["vatPercentage"]) == ("SE", None, 25.0)


@pytest.mark.parametrize(
    ("body", "property_name"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "SWE"}, "country"),
        ({"currency": "SKR"}, "currency"),
        ({"language": "xx"}, "language"),
        ({"language": "swe"}, "language"),
        ({"timeZone": "Europe/Nowhere"}, "timeZone"),
        ({"vatPercentage": 101}, "vatPercentage"),
        ({"vatPercentage": -1}, "vatPercentage"),
        ({"vatPercentage": "12.3456"}, "vatPercentage"),
        ({"vatPercentage": "lots"}, "vatPercentage"),
        ({"vatPercentage": True}, "vatPercentage"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": 12}, "name"),
        ({"name": "a\u0000b"}, "name"),
        ({"contactEmail": "not an address"}, "contactEmail"),
        ({"allowNegativeStock": None}, "allowNegativeStock"),
        ({}, ""),
    ],
)
async def test_a_bad_setting_is_refused_and_changes_nothing(
    api: Api, body: dict[str, Any], property_name: str
) -> None:
    before = (await api.put(SETTINGS, json={"name": "Before", "country": "FI"})).json()
    response = await api.put(SETTINGS, json={"language": "fi", **body} if body else body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errorType"] == "VALIDATION_ERROR"
    assert [v["propertyName"] for v in error["violations"]] == [property_name]
    assert (await api.get(SETTINGS)).json() == before


async def test_every_bad_field_is_named_at_once(api: Api) -> None:
    response = await api.put(SETTINGS, json={"country": "XX", "currency": "XXY", "name": "Fine"})
    assert response.status_code == 400
    assert sorted(v["propertyName"] for v in response.json()["violations"]) == ["country", "currency"]


async def test_the_profile_is_the_organizations_own(api: Api, other_api: Api) -> None:
    await api.put(SETTINGS, json={"name": "Mine"})
    assert (await other_api.get(SETTINGS)).json()["name"] == other_api.org
    other_org = await api.get(f"/api/resources/organizations/{other_api.org}")
    assert other_org.status_code == 403


async def test_changing_the_profile_needs_the_write_scope(api: Api) -> None:
    api.scopes = "READ:PRODUCT"
    assert (await api.put(SETTINGS, json={"name": "Nope"})).status_code == 403
    assert (await api.get("/api/resources/organizations/self")).status_code == 200
