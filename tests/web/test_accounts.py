"""People sign in with e-mail and password: one answer for every refusal, lock-out after repeated
failures, argon2id hashes never shown, sessions that end on sign-out and on disable, temporary
passwords, and the person's name in the ledger history."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.accounts import LOCKOUT_MS, MAX_FAILED_SIGNINS, Role
from stockledger.service import accounts, passwords
from stockledger.store.db import Database
from stockledger.store.tables import users
from tests.conftest import Api, new_uuid
from tests.web.conftest import PASSWORD, Ui, add_person, csrf_of, sign_in, ui_as

REFUSED = "The e-mail address or the password is not right."


def visible(html: str) -> str:
    """The page without the per-form tokens (which differ on every page)."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


async def stored_hash(db: Database, account_uuid: str) -> str:
    async def work(conn: AsyncConnection) -> str:
        return str(await conn.scalar(select(users.c.password_hash).where(users.c.uuid == account_uuid)))

    return await db.read(work)


@pytest.fixture
def clock(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The back office's sign-in clock, moved by the test: now[0] is the time in milliseconds."""
    now = [1_900_000_000_000]
    monkeypatch.setattr(app.state.stockledger, "signin_clock", lambda: now[0])
    return now


async def test_a_person_signs_in_with_their_e_mail_in_any_letter_case(api: Api, db: Database) -> None:
    person = await add_person(db, api.org, Role.STAFF, email="Kim.Staff@Example.com", name="Kim Berg")
    assert person.email == "kim.staff@example.com"
    response = await sign_in(api.client, "  KIM.staff@example.COM ")
    assert response.status_code == 303
    page = await api.client.get("/ui/stock")
    assert page.status_code == 200 and "Kim Berg · staff" in page.text


async def test_a_wrong_password_and_an_unknown_e_mail_get_the_same_answer(api: Api, db: Database) -> None:
    person = await add_person(db, api.org)
    wrong = await sign_in(api.client, person.email, "not the password at all")
    unknown = await sign_in(api.client, "nobody-" + person.email, "not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert REFUSED in response.text
        assert "stockledger_session" not in response.headers.get("set-cookie", "")
    assert visible(wrong.text).replace(person.email, "E") == visible(unknown.text).replace(
        "nobody-" + person.email, "E"
    )


async def test_an_unknown_e_mail_costs_a_hash_check_like_a_wrong_password(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await add_person(db, api.org)
    checks: list[str] = []
    hasher = passwords.HASHER

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            checks.append(str(hash))
            return hasher.verify(hash, password)

    counting = Counting(time_cost=hasher.time_cost, memory_cost=hasher.memory_cost, parallelism=1)
    monkeypatch.setattr(passwords, "HASHER", counting)
    await sign_in(api.client, person.email, "wrong password 1")
    await sign_in(api.client, "nobody@example.com", "wrong password 1")
    assert len(checks) == 2
    assert all(h.startswith(f"$argon2id$v=19$m={hasher.memory_cost},t={hasher.time_cost}") for h in checks)


async def test_repeated_failures_lock_the_account_until_the_lock_ends(
    api: Api, db: Database, clock: list[int]
) -> None:
    person = await add_person(db, api.org)
    for _ in range(MAX_FAILED_SIGNINS - 1):
        response = await sign_in(api.client, person.email, "a wrong guess")
        assert response.status_code == 400 and REFUSED in response.text
    locking = await sign_in(api.client, person.email, "a wrong guess")
    assert "this account is locked until" in locking.text
    # Locked: even the right password is refused, and says so.
    during = await sign_in(api.client, person.email)
    assert during.status_code == 400 and "this account is locked until" in during.text
    assert "stockledger_session" not in during.headers.get("set-cookie", "")
    clock[0] += LOCKOUT_MS - 1000
    assert "locked" in (await sign_in(api.client, person.email)).text
    clock[0] += 2000
    assert (await sign_in(api.client, person.email)).status_code == 303


async def test_a_success_starts_the_count_of_failures_again(api: Api, db: Database, clock: list[int]) -> None:
    person = await add_person(db, api.org)
    for _ in range(2):
        for _ in range(MAX_FAILED_SIGNINS - 1):
            assert REFUSED in (await sign_in(api.client, person.email, "a wrong guess")).text
        assert (await sign_in(api.client, person.email)).status_code == 303
        api.client.cookies.clear()  # signed out in this browser: the sign-in form shows again
    assert (await accounts.get(db, api.org, person.uuid)).failed_attempts == 0


async def test_an_unknown_e_mail_is_never_said_to_be_locked(api: Api, clock: list[int]) -> None:
    for _ in range(MAX_FAILED_SIGNINS + 2):
        response = await sign_in(api.client, f"nobody-{new_uuid()}@example.com"[:40], "a wrong guess")
        assert REFUSED in response.text and "locked" not in response.text
    for _ in range(MAX_FAILED_SIGNINS + 2):
        response = await sign_in(api.client, "the-same-nobody@example.com", "a wrong guess")
        assert REFUSED in response.text and "locked" not in response.text


async def test_the_owner_or_the_operator_unlocks_an_account_early(
    api: Api, db: Database, clock: list[int]
) -> None:
    person = await add_person(db, api.org, Role.STAFF)
    for _ in range(MAX_FAILED_SIGNINS):
        await sign_in(api.client, person.email, "a wrong guess")
    assert "locked" in (await sign_in(api.client, person.email)).text
    await accounts.enable(db, api.org, person.uuid)  # the People page's Unlock, `user enable`
    assert (await sign_in(api.client, person.email)).status_code == 303


async def test_passwords_are_hashed_with_argon2id_at_the_librarys_parameters(db: Database, api: Api) -> None:
    production = PasswordHasher()  # what the service uses outside these tests
    assert passwords.HASHER is not production
    assert production.hash("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    person = await add_person(db, api.org)
    assert (await stored_hash(db, person.uuid)).startswith("$argon2id$")
    assert PASSWORD not in await stored_hash(db, person.uuid)


async def test_a_hash_of_older_parameters_is_replaced_at_the_next_sign_in(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await add_person(db, api.org)
    old = await stored_hash(db, person.uuid)
    assert ",t=1," in old
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=2, memory_cost=8, parallelism=1))
    assert (await sign_in(api.client, person.email, "a wrong guess")).status_code == 400
    assert await stored_hash(db, person.uuid) == old  # only a right password is hashed again
    assert (await sign_in(api.client, person.email)).status_code == 303
    new = await stored_hash(db, person.uuid)
    assert new != old and ",t=2," in new
    assert passwords.HASHER.verify(new, PASSWORD)


async def test_neither_password_nor_hash_reaches_a_log_or_a_page(
    app: Any, api: Api, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await add_person(db, api.org, Role.OWNER)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as owner:
        assert (await sign_in(owner, account.email, "a wrong guess " + PASSWORD)).status_code == 400
        assert (await sign_in(owner, account.email)).status_code == 303
        secret_hash = await stored_hash(db, account.uuid)
        pages = [(await owner.get(path)).text for path in ("/ui/people", "/ui/account", "/ui/stock")]
    assert repr(await accounts.get(db, api.org, account.uuid)).count("$argon2") == 0
    for text in [*pages, caplog.text]:
        assert PASSWORD not in text and secret_hash not in text and "$argon2" not in text


async def test_sign_out_ends_the_session_on_the_server(ui: Ui) -> None:
    cookie = ui.client.cookies.get("stockledger_session")
    response = await ui.client.post("/ui/signout", data={"csrf_token": await ui.csrf()})
    assert response.status_code == 303
    replayed = await ui.client.get("/ui/stock", cookies={"stockledger_session": cookie or ""})
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/ui/signin")


async def test_disabling_an_account_ends_its_sessions_at_once(app: Any, api: Api, db: Database) -> None:
    async with ui_as(app, api, db, Role.STAFF) as (browser, person):
        assert (await browser.get("/ui/stock")).status_code == 200
        await accounts.disable(db, api.org, person.uuid)
        response = await browser.get("/ui/stock")
        assert response.status_code == 303 and response.headers["location"].startswith("/ui/signin")
        # The right password is told the account is disabled; a wrong one learns nothing.
        assert "This account is disabled" in (await sign_in(browser, person.email)).text
        assert REFUSED in (await sign_in(browser, person.email, "a wrong guess")).text
        await accounts.enable(db, api.org, person.uuid)
        assert (await sign_in(browser, person.email)).status_code == 303


async def test_a_changed_role_counts_from_the_next_request(app: Any, api: Api, db: Database) -> None:
    async with ui_as(app, api, db, Role.STAFF) as (browser, person):
        assert (await browser.get("/ui/adjust")).status_code == 200
        await accounts.set_role(db, api.org, person.uuid, Role.READ_ONLY)
        assert (await browser.get("/ui/adjust")).status_code == 403


async def test_a_temporary_password_must_be_replaced_before_anything_else(api: Api, db: Database) -> None:
    person = await add_person(db, api.org, Role.STAFF, must_change=True)
    assert (await sign_in(api.client, person.email)).status_code == 303
    for path in ("/ui/stock", "/ui/adjust", "/ui/people"):
        response = await api.client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/ui/account", path
    page = await api.client.get("/ui/account")
    assert "temporary password" in page.text
    token = csrf_of(page.text)
    refused = await api.client.post("/ui/adjust", data={"csrf_token": token, "quantity": "1"})
    assert refused.status_code == 303 and refused.headers["location"] == "/ui/account"
    new = "my very own password"
    changed = await api.client.post(
        "/ui/account/password", data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new}
    )
    assert changed.status_code == 303
    assert (await api.client.get("/ui/stock")).status_code == 200
    assert not (await accounts.get(db, api.org, person.uuid)).must_change_password


async def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    app: Any, ui: Ui, db: Database
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as other:
        assert (await sign_in(other, ui.account.email)).status_code == 303
        token = await ui.csrf("/ui/account")
        new = "another long password"
        cases = [
            ({"current": "not it at all", "new": new, "repeat": new}, "current password is not right"),
            ({"current": PASSWORD, "new": new, "repeat": new + "x"}, "two new passwords differ"),
            ({"current": PASSWORD, "new": "short", "repeat": "short"}, "at least 10 characters"),
        ]
        for form, message in cases:
            response = await ui.client.post("/ui/account/password", data={"csrf_token": token, **form})
            assert response.status_code == 400 and message in response.text
        assert (await other.get("/ui/stock")).status_code == 200
        form = {"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new}
        assert (await ui.client.post("/ui/account/password", data=form)).status_code == 303
        assert (await ui.client.get("/ui/stock")).status_code == 200  # this session goes on
        assert (await other.get("/ui/stock")).status_code == 303  # the other one ended
        assert (await sign_in(other, ui.account.email)).status_code == 400
        assert (await sign_in(other, ui.account.email, new)).status_code == 303


async def test_the_history_shows_the_name_of_who_recorded_a_movement(
    app: Any, api: Api, db: Database
) -> None:
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    locs = await api.locations()
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 5)).is_success
    async with ui_as(app, api, db, Role.STAFF) as (browser, person):
        token = csrf_of((await browser.get("/ui/adjust")).text)
        form = {"csrf_token": token, "action": "sale", "location": locs["STORE"], "product": product,
                "variant": variant, "quantity": "2"}  # fmt: skip
        assert (await browser.post("/ui/adjust", data=form)).status_code == 303
        page = (await browser.get(f"/ui/variants/{product}/{variant}")).text
    rows = page.split('<table class="history">', 1)[1].split("</tbody>", 1)[0].split("<tr>")
    newest, api_written = rows[2], rows[3]
    assert person.name in newest and api.sub[:8] in api_written and person.name not in api_written
    body = (await api.get("/organizations/self/inventory/movements", params={"variantUuid": variant})).json()
    sale, restock = body["movements"]
    assert (sale["actor"], sale["actorName"]) == (f"PERSON:{person.uuid}", person.name)
    assert (restock["actor"], restock["actorName"]) == (api.sub, None)
