"""The settings page: the organization's profile, saved through the same service as the API."""

from __future__ import annotations

from typing import Any

from stockledger.domain.accounts import Role
from stockledger.store.db import Database
from tests.conftest import Api
from tests.web.conftest import Ui, csrf_of, ui_as

FORM = {
    "name": "Kaffebaren",
    "country": "se",
    "currency": "sek",
    "language": "sv",
    "time_zone": "Europe/Stockholm",
    "vat_percentage": "12",
    "contact_email": "hej@example.com",
}


async def test_the_settings_page_shows_the_profile_with_its_defaults(ui: Ui) -> None:
    page = await ui.client.get("/ui/settings")
    assert page.status_code == 200
    assert 'value="SEK"' in page.text and 'value="Europe/Stockholm"' in page.text
    assert f'value="{ui.api.org}"' in page.text  # an unnamed organization is called by its UUID
    assert 'href="/ui/settings"' in page.text


async def test_saving_the_form_changes_what_integrations_read(ui: Ui) -> None:
    form = {**FORM, "csrf_token": await ui.csrf("/ui/settings")}
    response = await ui.client.post("/ui/settings", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/ui/settings?saved=1"
    body = (await ui.api.get("/api/resources/organizations/self")).json()
    assert (body["name"], body["country"], body["currency"], body["language"]) == (
        "Kaffebaren",
        "SE",
        "SEK",
        "sv",
    )
    assert (body["vatPercentage"], body["contactEmail"]) == (12.0, "hej@example.com")
    page = await ui.client.get("/ui/settings?saved=1")
    assert "Settings saved." in page.text and 'value="Kaffebaren"' in page.text


async def test_a_bad_field_is_marked_and_nothing_is_saved(ui: Ui) -> None:
    form = {**FORM, "currency": "KRONA", "vat_percentage": "250", "csrf_token": await ui.csrf("/ui/settings")}
    response = await ui.client.post("/ui/settings", data=form)
    assert response.status_code == 400
    assert 'id="currency-error"' in response.text and 'id="vat_percentage-error"' in response.text
    assert 'value="KRONA"' in response.text  # the merchant's input is kept for correction
    assert (await ui.api.get("/organizations/self/settings")).json()["name"] == ui.api.org


async def test_a_blank_field_returns_to_its_default(ui: Ui) -> None:
    await ui.api.put("/organizations/self/settings", json={"country": "DE", "name": "Laden"})
    form = {**FORM, "country": "", "name": "  ", "csrf_token": await ui.csrf("/ui/settings")}
    assert (await ui.client.post("/ui/settings", data=form)).status_code == 303
    body = (await ui.api.get("/organizations/self/settings")).json()
    assert (body["country"], body["name"]) == ("SE", ui.api.org)


async def test_saving_needs_the_csrf_token_and_the_owner_role(
    app: Any, api: Api, db: Database, ui: Ui
) -> None:
    assert (await ui.client.post("/ui/settings", data=FORM)).status_code == 403
    for role in (Role.STAFF, Role.READ_ONLY):
        async with ui_as(app, api, db, role) as (browser, _):
            page = await browser.get("/ui/settings")
            assert page.status_code == 200
            assert "Only an owner can change these." in page.text and "Save settings" not in page.text
            form = {**FORM, "csrf_token": csrf_of(page.text)}
            refused = await browser.post("/ui/settings", data=form)
            assert refused.status_code == 403 and "does not allow this" in refused.text
    assert (await api.get("/organizations/self/settings")).json()["name"] == api.org
