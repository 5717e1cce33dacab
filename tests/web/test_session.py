"""Signing in (a person; an API key where the setting allows it), the session cookie, CSRF on every
POST, signing out."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store import apikeys
from stockledger.store.db import Database
from stockledger.tokens import DEFAULT_SCOPES, mint_api_key
from tests.conftest import TEST_SECRET, Api
from tests.web.conftest import PASSWORD, Ui, add_person, csrf_of, issue_key, sign_in, sign_in_with_key


async def test_pages_redirect_to_sign_in_without_a_session(api: Api) -> None:
    response = await api.client.get("/ui/stock?q=tee")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/signin?next=%2Fui%2Fstock%3Fq%3Dtee"


async def test_sign_in_sets_an_httponly_strict_session_cookie_and_follows_next(
    api: Api, db: Database
) -> None:
    person = await add_person(db, api.org)
    response = await sign_in(api.client, person.email, next_url="/ui/adjust")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/adjust"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("stockledger_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert "Max-Age=" in cookie
    assert (await api.client.get("/ui/stock")).status_code == 200


async def test_sign_in_never_redirects_off_the_back_office(api: Api, db: Database) -> None:
    person = await add_person(db, api.org)
    response = await sign_in(api.client, person.email, next_url="//evil.example/ui")
    assert response.headers["location"] == "/ui/stock"


async def test_an_invalid_key_shows_an_error_next_to_the_field(key_client: Any) -> None:
    response = await sign_in_with_key(key_client, "not-a-key")
    assert response.status_code == 400
    assert 'id="api_key-error"' in response.text and "not valid" in response.text
    assert "stockledger_session" not in response.headers.get("set-cookie", "")


async def test_an_expired_key_is_told_so_and_opens_no_session(
    key_client: Any, api: Api, db: Database
) -> None:
    key_id, key = mint_api_key(
        TEST_SECRET, org=api.org, sub=api.sub, scopes=DEFAULT_SCOPES, ttl_s=60, now_s=int(time.time()) - 3600
    )

    async def record(conn: AsyncConnection) -> None:
        await apikeys.insert(conn, key_id, api.org, api.sub, DEFAULT_SCOPES)

    await db.write(record)
    response = await sign_in_with_key(key_client, key)
    assert response.status_code == 400
    assert 'id="api_key-error"' in response.text and "has expired" in response.text
    assert "stockledger_session" not in response.headers.get("set-cookie", "")


async def test_a_revoked_key_cannot_sign_in_and_revoking_ends_the_session(
    key_client: Any, api: Api, db: Database
) -> None:
    key_id, key = await issue_key(db, api.org, api.sub)
    assert (await sign_in_with_key(key_client, key)).status_code == 303
    assert (await key_client.get("/ui/stock")).status_code == 200

    async def revoke(conn: AsyncConnection) -> bool:
        return await apikeys.revoke(conn, key_id)

    await db.write(revoke)
    assert (await key_client.get("/ui/stock")).status_code == 303
    assert (await sign_in_with_key(key_client, key)).status_code == 400


async def test_an_access_token_is_not_accepted_as_an_api_key(key_client: Any, api: Api) -> None:
    response = await sign_in_with_key(key_client, api.token())
    assert response.status_code == 400


async def test_a_tampered_session_cookie_is_refused(ui: Ui) -> None:
    raw = ui.client.cookies.get("stockledger_session")
    assert raw
    ui.client.cookies.set("stockledger_session", raw[:-2] + "xx", path="/ui")
    assert (await ui.client.get("/ui/stock")).status_code == 303


async def test_sign_in_without_the_form_token_is_forbidden(api: Api, db: Database) -> None:
    person = await add_person(db, api.org)
    await api.client.get("/ui/signin")
    response = await api.client.post("/ui/signin", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.text


async def test_a_forged_post_without_the_csrf_token_is_forbidden_and_changes_nothing(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    await ui.api.track(product)
    locs = await ui.api.locations()
    form = {
        "action": "receive",
        "location": locs["STORE"],
        "product": product,
        "variant": variant,
        "quantity": "5",
    }
    response = await ui.client.post("/ui/adjust", data=form)
    assert response.status_code == 403
    response = await ui.client.post("/ui/adjust", data={**form, "csrf_token": "guessed"})
    assert response.status_code == 403
    inventory = (await ui.api.get("/inventory")).json()
    assert inventory["variants"] == []


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(ui: Ui) -> None:
    assert (await ui.client.post("/ui/signout", data={})).status_code == 403
    token = await ui.csrf()
    response = await ui.client.post("/ui/signout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/signin"
    assert (await ui.client.get("/ui/stock")).status_code == 303


async def test_a_session_cookie_kept_from_before_sign_out_no_longer_works(ui: Ui, app: Any) -> None:
    """Sign-out ends the session on the server: a copy of the cookie (another tab, a stolen cookie,
    a browser that ignores the deletion) is refused afterwards, while other sessions go on."""
    stolen = ui.client.cookies.get("stockledger_session")
    assert stolen
    second = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=str(ui.client.base_url))
    async with second:
        assert (
            await sign_in(second, ui.account.email)
        ).status_code == 303  # the same person, another browser
        token = await ui.csrf()
        assert (await ui.client.post("/ui/signout", data={"csrf_token": token})).status_code == 303
        replayed = await ui.client.get("/ui/stock", cookies={"stockledger_session": stolen})
        assert replayed.status_code == 303
        assert replayed.headers["location"].startswith("/ui/signin")
        forged = await ui.client.post(
            "/ui/signout", data={"csrf_token": token}, cookies={"stockledger_session": stolen}
        )
        assert forged.status_code == 303 and forged.headers["location"].startswith("/ui/signin")
        assert (await second.get("/ui/stock")).status_code == 200  # only the signed-out session ended


async def test_a_key_session_acts_with_the_keys_scopes(key_client: Any, api: Api, db: Database) -> None:
    _, key = await issue_key(db, api.org, api.sub, scopes="READ:PRODUCT")
    await sign_in_with_key(key_client, key)
    assert (await key_client.get("/ui/stock")).status_code == 200
    response = await key_client.get("/ui/adjust")
    assert response.status_code == 403
    assert "WRITE:PRODUCT" in response.text
    token = csrf_of((await key_client.get("/ui/stock")).text)
    response = await key_client.post("/ui/adjust", data={"csrf_token": token, "quantity": "1"})
    assert response.status_code == 403
    assert (await key_client.get("/ui/people")).status_code == 403  # people are managed by a person


async def test_api_key_sign_in_is_refused_by_default(api: Api, db: Database) -> None:
    _, key = await issue_key(db, api.org, api.sub)
    form = await api.client.get("/ui/signin")
    assert 'name="api_key"' not in form.text  # the page offers only e-mail and password
    response = await sign_in_with_key(api.client, key)
    assert response.status_code == 400
    assert "Signing in with an API key is turned off" in response.text
    assert "stockledger_session" not in response.headers.get("set-cookie", "")
    assert (await api.client.get("/ui/stock")).status_code == 303


async def test_key_sessions_end_when_the_setting_is_turned_off(
    key_client: Any, app: Any, api: Api, db: Database
) -> None:
    _, key = await issue_key(db, api.org, api.sub)
    form = await key_client.get("/ui/signin")
    assert 'name="api_key"' in form.text
    assert (await sign_in_with_key(key_client, key)).status_code == 303
    assert (await key_client.get("/ui/stock")).status_code == 200
    # The same database and secret served with the setting off (the default): the cookie is refused.
    cookie = key_client.cookies.get("stockledger_session")
    assert cookie
    off = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=str(key_client.base_url))
    async with off:
        response = await off.get("/ui/stock", cookies={"stockledger_session": cookie})
        assert response.status_code == 303 and response.headers["location"].startswith("/ui/signin")
