"""Roles on every page and form, checked on the server: each role against each back-office route.

The routes come from the app itself, so a new page or form that is not in the tables below fails
here until someone decides who may use it (and the route checks it)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts

from stockledger.domain.accounts import Role
from stockledger.store.db import Database
from tests.api.test_route_security import org_checksum
from tests.conftest import Api, new_uuid
from tests.web.conftest import PASSWORD, add_person, csrf_of, ui_as

ANYONE = "anyone signed in"  # every role (signing out, one's own password)
PUBLIC = "public"  # no session needed (the sign-in form itself)
RANK = {Role.READ_ONLY: 0, Role.STAFF: 1, Role.OWNER: 2}

# Who may POST each form: the least role that may.
POST_ROUTES: dict[str, Role | str] = {
    "/ui/signin": PUBLIC,
    "/ui/signout": ANYONE,
    "/ui/account/password": ANYONE,
    "/ui/adjust": Role.STAFF,
    "/ui/stocktake": Role.STAFF,
    "/ui/stocktake/{taken}/apply": Role.STAFF,
    "/ui/variants/{product}/{variant}/low-stock": Role.STAFF,
    "/ui/products/new": Role.STAFF,
    "/ui/products/{product}": Role.STAFF,
    "/ui/products/{product}/delete": Role.STAFF,
    "/ui/products/{product}/tracking": Role.STAFF,
    "/ui/adjust/track": Role.STAFF,
    "/ui/settings": Role.OWNER,
    "/ui/webhooks/{sub}/redeliver": Role.OWNER,
    "/ui/people": Role.OWNER,
    "/ui/people/{account}/role": Role.OWNER,
    "/ui/people/{account}/disable": Role.OWNER,
    "/ui/people/{account}/enable": Role.OWNER,
    "/ui/people/{account}/reset-password": Role.OWNER,
}
# Who may open each page.
GET_ROUTES: dict[str, Role | str] = {
    "/ui": PUBLIC,
    "/ui/signin": PUBLIC,
    "/ui/account": ANYONE,
    "/ui/stock": Role.READ_ONLY,
    "/ui/stock.csv": Role.READ_ONLY,
    "/ui/stock/all.csv": Role.READ_ONLY,
    "/ui/variants/{product}/{variant}": Role.READ_ONLY,
    "/ui/low-stock": Role.READ_ONLY,
    "/ui/low-stock.csv": Role.READ_ONLY,
    "/ui/settings": Role.READ_ONLY,
    "/ui/products": Role.READ_ONLY,
    "/ui/products/{product}": Role.READ_ONLY,
    "/ui/products/new": Role.STAFF,
    "/ui/products/{product}/delete": Role.STAFF,
    "/ui/adjust": Role.STAFF,
    "/ui/adjust/variants": Role.STAFF,
    "/ui/stocktake": Role.STAFF,
    "/ui/stocktake/{taken}": Role.STAFF,
    "/ui/webhooks": Role.OWNER,
    "/ui/people": Role.OWNER,
}
CATCH_ALL = "/ui/{rest:path}"  # the 404 page of unknown addresses


def page_routes(app: Any, method: str) -> list[str]:
    return sorted(
        route.path
        for route in iter_route_contexts(app.routes)
        if route.path.startswith("/ui")
        and method in (getattr(route, "methods", None) or ())
        and route.path != CATCH_ALL
    )


def test_every_back_office_route_has_a_role_in_the_tables(app: Any) -> None:
    for method, table in (("POST", POST_ROUTES), ("GET", GET_ROUTES)):
        missing = [path for path in page_routes(app, method) if path not in table]
        assert not missing, f"decide which role may {method} {missing}: add them to tests/web/test_roles.py"
        gone = [path for path in table if path not in page_routes(app, method)]
        assert not gone, f"{method} {gone} no longer exist"


def allowed(role: Role, least: Role | str) -> bool:
    return least in (ANYONE, PUBLIC) or RANK[role] >= RANK[Role(least)]


class Org:
    """One organization's data for the forms: a tracked variant with stock, a stocktake, a colleague."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.values: dict[str, str] = {}

    async def prepare(self, db: Database, owner: httpx.AsyncClient) -> None:
        product, variant = new_uuid(), new_uuid()
        created = await self.api.post(
            "/organizations/self/products",
            json={"uuid": product, "name": "Lamp", "variants": [{"uuid": variant}]},
        )
        assert created.status_code == 201, created.text
        await self.api.track(product)
        locs = await self.api.locations()
        assert (await self.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 10)).is_success
        token = csrf_of((await owner.get("/ui/stocktake")).text)
        csv = f"productUuid,variantUuid,balance\n{product},{variant},4\n".encode()
        uploaded = await owner.post(
            "/ui/stocktake", data={"csrf_token": token}, files={"file": ("c.csv", csv, "text/csv")}
        )
        assert uploaded.status_code == 303, uploaded.text
        colleague = await add_person(db, self.api.org, Role.STAFF)
        self.values = {
            "product": product,
            "variant": variant,
            "store": locs["STORE"],
            "taken": uploaded.headers["location"].rsplit("/", 1)[1],
            "sub": new_uuid(),
            "account": colleague.uuid,
        }

    def path(self, template: str) -> str:
        return re.sub(r"\{([^}]+)\}", lambda m: self.values[m.group(1)], template)

    def form(self, template: str) -> dict[str, Any]:
        """Form fields that would change something if the role check were missing."""
        v = self.values
        return {
            "/ui/adjust": {"action": "receive", "location": v["store"], "product": v["product"],
                           "variant": v["variant"], "quantity": "5"},
            "/ui/variants/{product}/{variant}/low-stock": {"location": v["store"], "level": "3",
                                                          "alert": "on"},
            "/ui/settings": {"name": "Renamed", "country": "SE", "currency": "SEK", "language": "sv",
                             "time_zone": "Europe/Stockholm", "vat_percentage": "25", "contact_email": ""},
            "/ui/webhooks/{sub}/redeliver": {"message": new_uuid()},
            "/ui/people": {"name": "Someone New", "email": f"new-{new_uuid()}@example.com", "role": "staff"},
            "/ui/people/{account}/role": {"role": "read-only"},
            "/ui/products/new": {"name": "New lamp", "rows": "1", "v0_name": "Big", "v0_price": "9.50"},
            "/ui/products/{product}": {"name": "Renamed lamp", "rows": "1", "v0_uuid": v["variant"]},
            "/ui/products/{product}/tracking": {"tracked": "0"},
            "/ui/adjust/track": {"product": new_uuid(), "variant": new_uuid()},
            "/ui/account/password": {"current": PASSWORD, "new": PASSWORD + "!", "repeat": PASSWORD + "!"},
        }.get(template, {})  # fmt: skip

    def files(self, template: str) -> dict[str, Any] | None:
        if template != "/ui/stocktake":
            return None
        v = self.values
        csv = f"productUuid,variantUuid,balance\n{v['product']},{v['variant']},1\n".encode()
        return {"file": ("c.csv", csv, "text/csv")}


async def post_form(browser: httpx.AsyncClient, org: Org, template: str) -> httpx.Response:
    token = csrf_of((await browser.get("/ui/account")).text)
    return await browser.post(
        org.path(template), data={**org.form(template), "csrf_token": token}, files=org.files(template)
    )


async def test_each_role_may_post_only_its_forms_and_a_refusal_changes_nothing(
    app: Any, api: Api, db: Database
) -> None:
    org = Org(api)
    async with ui_as(app, api, db, Role.OWNER) as (owner, _):
        await org.prepare(db, owner)
        for role in (Role.READ_ONLY, Role.STAFF):
            async with ui_as(app, api, db, role) as (browser, _):
                for template, least in POST_ROUTES.items():
                    if allowed(role, least):
                        continue
                    before = await org_checksum(db, api.org)
                    response = await post_form(browser, org, template)
                    assert response.status_code == 403, (role, template, response.status_code)
                    assert "<h1>Not allowed</h1>" in response.text and "does not allow this" in response.text
                    assert await org_checksum(db, api.org) == before, (role, template)
        # Each role may use what it is allowed (each form in a session of its own: one signs out).
        for role in Role:
            for template, least in POST_ROUTES.items():
                if least == PUBLIC or not allowed(role, least):
                    continue
                async with ui_as(app, api, db, role) as (browser, _):
                    response = await post_form(browser, org, template)
                    assert response.status_code != 403, (role, template, response.text)
                    assert response.status_code < 500, (role, template)


async def test_each_role_opens_only_its_pages(app: Any, api: Api, db: Database) -> None:
    org = Org(api)
    async with ui_as(app, api, db, Role.OWNER) as (owner, _):
        await org.prepare(db, owner)
    for role in Role:
        async with ui_as(app, api, db, role) as (browser, _):
            for template, least in GET_ROUTES.items():
                response = await browser.get(org.path(template))
                if allowed(role, least):
                    assert response.status_code in (200, 303), (role, template, response.status_code)
                else:
                    assert response.status_code == 403, (role, template, response.status_code)
                    assert "does not allow this" in response.text


async def test_the_navigation_shows_each_role_only_its_pages(app: Any, api: Api, db: Database) -> None:
    shown = {}
    for role in Role:
        async with ui_as(app, api, db, role) as (browser, account):
            page = (await browser.get("/ui/stock")).text
            nav = page.split('<ul class="nav">', 1)[1].split("</ul>", 1)[0]
            shown[role] = set(re.findall(r'href="(/ui/[^"]+)"', nav))
            assert f"{account.name} · {role.value}" in page
            assert ("Adjust stock</a>" in page.split("</nav>", 1)[1]) == (role != Role.READ_ONLY)
    assert shown[Role.READ_ONLY] == {"/ui/stock", "/ui/products", "/ui/low-stock", "/ui/settings"}
    assert shown[Role.STAFF] == shown[Role.READ_ONLY] | {"/ui/adjust", "/ui/stocktake"}
    assert shown[Role.OWNER] == shown[Role.STAFF] | {"/ui/webhooks", "/ui/people"}
