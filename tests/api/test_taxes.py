"""Zettle's taxes API (product-library-api §3.11) for VAT organizations: 403 with a JSON error, which
BjornTech's plugin reads as "send vatPercentage" and inpsyde's never asks for (it reads taxationType)."""

from __future__ import annotations

import pytest

from stockledger.store.db import Database
from tests.api.test_route_security import org_checksum
from tests.conftest import Api, new_uuid

READS = ["/v1/taxes", "/v1/taxes/", "/v1/taxes/settings", "/v1/taxes/settings/", f"/v1/taxes/{new_uuid()}"]
RATES = {"taxRates": [{"uuid": new_uuid(), "label": "State", "percentage": 6.25, "default": True}]}


@pytest.mark.parametrize("path", READS)
async def test_a_vat_organization_gets_403_with_a_json_error(api: Api, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["errorType"] == "FORBIDDEN"
    assert "VAT" in body["developerMessage"]


async def test_the_refusal_agrees_with_the_organization_profile(api: Api) -> None:
    """The organization answers taxationType VAT and its VAT rate; the taxes API refuses accordingly."""
    assert (await api.put("/organizations/self/settings", json={"vatPercentage": "12.5"})).status_code == 200
    profile = (await api.get("/api/resources/organizations/self")).json()
    assert (profile["taxationType"], profile["vatPercentage"]) == ("VAT", 12.5)
    assert "12.5%" in (await api.get("/v1/taxes/settings/")).json()["developerMessage"]


async def test_creating_tax_rates_is_refused_and_writes_nothing(api: Api, db: Database) -> None:
    await api.locations()  # the organization exists
    before = await org_checksum(db, api.org)
    response = await api.post("/v1/taxes/", json=RATES)
    assert response.status_code == 403 and isinstance(response.json()["developerMessage"], str)
    assert await org_checksum(db, api.org) == before


async def test_the_taxes_api_needs_a_token_and_its_scopes(api: Api) -> None:
    assert (await api.client.get("/v1/taxes/settings")).status_code == 401
    writer = Api(api.client, api.org, scopes="WRITE:PRODUCT")
    missing = await writer.get("/v1/taxes")
    assert missing.status_code == 403 and "READ:PRODUCT" in missing.json()["developerMessage"]
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    refused = await reader.post("/v1/taxes", json=RATES)
    assert "WRITE:PRODUCT" in refused.json()["developerMessage"]
