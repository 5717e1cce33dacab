"""The People page: an owner adds people with a temporary password, changes roles, disables,
enables and resets passwords, within their own organization only."""

from __future__ import annotations

import re
from typing import Any

import httpx

from stockledger.domain.accounts import Role
from stockledger.service import accounts
from stockledger.store.db import Database
from tests.api.test_route_security import org_checksum
from tests.conftest import Api
from tests.web.conftest import Ui, add_person, sign_in

TEMPORARY = re.compile(r"data-temporary-password>([^<]+)<")


async def add(ui: Ui, **fields: str) -> httpx.Response:
    data = {"csrf_token": await ui.csrf("/ui/people"), "name": "Sam Till", "role": "staff", **fields}
    return await ui.client.post("/ui/people", data=data)


async def test_an_owner_adds_a_person_who_signs_in_with_the_temporary_password(
    app: Any, ui: Ui, db: Database
) -> None:
    page = await ui.client.get("/ui/people")
    assert page.status_code == 200 and ui.account.email in page.text and "(you)" in page.text
    response = await add(ui, email="Sam.Till@Example.com", role="read-only")
    assert response.status_code == 200
    found = TEMPORARY.search(response.text)
    assert found, response.text
    temporary = found.group(1)
    assert len(temporary) == 19 and "sam.till@example.com" in response.text
    people = {a.email: a for a in await accounts.list_accounts(db, ui.api.org)}
    sam = people["sam.till@example.com"]
    assert (sam.name, sam.role, sam.must_change_password) == ("Sam Till", Role.READ_ONLY, True)
    assert temporary not in (await ui.client.get("/ui/people")).text  # shown once
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as browser:
        assert (await sign_in(browser, "sam.till@example.com", temporary)).status_code == 303
        assert (await browser.get("/ui/stock")).headers["location"] == "/ui/account"


async def test_a_bad_form_is_answered_next_to_its_fields_and_adds_nobody(ui: Ui, db: Database) -> None:
    before = await org_checksum(db, ui.api.org)
    cases = [
        ({"email": "not-an-address"}, "email-error", "must be an e-mail address"),
        ({"email": "a@example.com", "name": "  "}, "name-error", "must be 1 to 255 characters"),
        ({"email": "b@example.com", "role": "owner"}, "role-error", "must be staff or read-only"),
        ({"email": "c@example.com", "role": "boss"}, "role-error", "must be one of"),
        ({"email": ui.account.email.upper()}, "email-error", "exists already"),
    ]
    for fields, where, message in cases:
        response = await add(ui, **fields)
        assert response.status_code == 400, fields
        assert f'id="{where}"' in response.text and message in response.text, fields
    assert await org_checksum(db, ui.api.org) == before


async def test_an_e_mail_has_one_account_in_the_whole_installation(
    ui: Ui, other_api: Api, db: Database
) -> None:
    elsewhere = await add_person(db, other_api.org)
    response = await add(ui, email=elsewhere.email.title())
    assert response.status_code == 400 and "exists already" in response.text


async def test_an_owner_changes_a_role_disables_enables_and_resets_a_password(
    app: Any, ui: Ui, db: Database
) -> None:
    colleague = await add_person(db, ui.api.org, Role.STAFF)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as browser:
        assert (await sign_in(browser, colleague.email)).status_code == 303
        base = f"/ui/people/{colleague.uuid}"
        token = await ui.csrf("/ui/people")

        response = await ui.client.post(f"{base}/role", data={"csrf_token": token, "role": "owner"})
        assert response.status_code == 303 and "done=role" in response.headers["location"]
        assert (await accounts.get(db, ui.api.org, colleague.uuid)).role == Role.OWNER
        assert (await browser.get("/ui/people")).status_code == 200  # at once

        assert (await ui.client.post(f"{base}/disable", data={"csrf_token": token})).status_code == 303
        assert (await browser.get("/ui/stock")).status_code == 303  # its session ended
        assert "disabled" in (await ui.client.get("/ui/people")).text
        assert (await ui.client.post(f"{base}/enable", data={"csrf_token": token})).status_code == 303
        assert (await sign_in(browser, colleague.email)).status_code == 303

        reset = await ui.client.post(f"{base}/reset-password", data={"csrf_token": token})
        assert reset.status_code == 200
        found = TEMPORARY.search(reset.text)
        assert found
        assert (await browser.get("/ui/stock")).status_code == 303  # sessions end with a reset
        assert (await sign_in(browser, colleague.email)).status_code == 400  # the old password
        assert (await sign_in(browser, colleague.email, found.group(1))).status_code == 303
        assert (await browser.get("/ui/stock")).headers["location"] == "/ui/account"


async def test_an_owner_cannot_change_their_own_account_here(ui: Ui, db: Database) -> None:
    token = await ui.csrf("/ui/people")
    base = f"/ui/people/{ui.account.uuid}"
    for action, data in (("role", {"role": "staff"}), ("disable", {}), ("reset-password", {})):
        response = await ui.client.post(f"{base}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 409, action
    account = await accounts.get(db, ui.api.org, ui.account.uuid)
    assert account.role == Role.OWNER and not account.disabled


async def test_the_last_active_owner_can_be_neither_demoted_nor_disabled(ui: Ui, db: Database) -> None:
    other_owner = await add_person(db, ui.api.org, Role.OWNER)
    token = await ui.csrf("/ui/people")
    response = await ui.client.post(
        f"/ui/people/{other_owner.uuid}/role", data={"csrf_token": token, "role": "staff"}
    )
    assert response.status_code == 303  # ui's owner remains
    await accounts.disable(db, ui.api.org, other_owner.uuid)
    for change in (
        accounts.set_role(db, ui.api.org, ui.account.uuid, Role.STAFF),
        accounts.disable(db, ui.api.org, ui.account.uuid),
    ):
        try:
            await change
        except accounts.ServiceError as exc:
            assert exc.status == 409 and "needs an active owner" in exc.message
        else:
            raise AssertionError("the last owner was changed")
    assert (await accounts.get(db, ui.api.org, ui.account.uuid)).role == Role.OWNER


async def test_an_owner_cannot_touch_another_organizations_people(
    ui: Ui, other_api: Api, db: Database
) -> None:
    stranger = await add_person(db, other_api.org, Role.OWNER)
    before = await org_checksum(db, other_api.org)
    token = await ui.csrf("/ui/people")
    for action, data in (
        ("role", {"role": "staff"}),
        ("disable", {}),
        ("enable", {}),
        ("reset-password", {}),
    ):
        response = await ui.client.post(
            f"/ui/people/{stranger.uuid}/{action}", data={"csrf_token": token, **data}
        )
        assert response.status_code == 404, action
    assert stranger.email not in (await ui.client.get("/ui/people")).text
    assert await org_checksum(db, other_api.org) == before
