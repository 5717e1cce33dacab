"""The settings page in a real headless Chromium: the merchant sets what integrations read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server

if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def organization(server: Server) -> dict[str, Any]:
    with server.api() as api:
        response = api.get("/api/resources/organizations/self/")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def test_the_merchant_sets_the_organization_integrations_read(page: Any, server: Server) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_label("Currency")).to_have_value("SEK")
    page.get_by_label("Name").fill("Kaffebaren")
    page.get_by_label("Country").fill("NO")
    page.get_by_label("Currency").fill("NOK")
    page.get_by_label("Language").fill("nb")
    page.get_by_label("VAT percentage").fill("15")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    expect(page.get_by_label("Name")).to_have_value("Kaffebaren")
    body = organization(server)
    assert (body["name"], body["country"], body["currency"], body["language"]) == (
        "Kaffebaren",
        "NO",
        "NOK",
        "nb",
    )
    assert body["vatPercentage"] == 15.0


def test_a_wrong_code_is_explained_next_to_its_field(page: Any, server: Server) -> None:
    sign_in(page, server)
    page.goto("/ui/settings")
    before = organization(server)
    page.get_by_label("Currency").fill("KRONOR")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.locator("#currency-error")).to_contain_text("ISO 4217")
    expect(page.get_by_label("Currency")).to_have_attribute("aria-invalid", "true")
    assert organization(server) == before
