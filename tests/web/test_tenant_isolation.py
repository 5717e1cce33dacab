"""A back-office session of one organization can neither see nor change another organization's stock."""

from __future__ import annotations

from typing import Any

import httpx

from stockledger.store.db import Database
from tests.api.test_route_security import org_checksum
from tests.conftest import Api, new_uuid
from tests.web.conftest import add_person, csrf_of, sign_in


async def test_another_organizations_session_sees_and_changes_nothing_of_this_one(
    app: Any, api: Api, other_api: Api, db: Database
) -> None:
    # Organization A: a tracked variant with stock in its default store.
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 7)).status_code == 200
    before = await org_checksum(db, api.org)

    # Organization B signs in to the back office in its own browser (its own cookie jar).
    await other_api.locations()
    other_owner = await add_person(db, other_api.org)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as browser:
        assert (await sign_in(browser, other_owner.email)).status_code == 303
        own = await browser.get("/ui/stock")
        assert own.status_code == 200
        exports = ("/ui/stock.csv", "/ui/stock/all.csv", "/ui/low-stock.csv")
        for page in (own, *[await browser.get(path) for path in exports]):
            assert variant not in page.text and locs["STORE"] not in page.text

        for path in (
            f"/ui/stock?location={locs['STORE']}",
            f"/ui/stock.csv?location={locs['STORE']}",
            f"/ui/stock/all.csv?location={locs['STORE']}",
            f"/ui/low-stock?location={locs['STORE']}",
            f"/ui/low-stock.csv?location={locs['STORE']}",
            f"/ui/variants/{product}/{variant}",
            f"/ui/variants/{product}/{variant}?location={locs['STORE']}",
        ):
            response = await browser.get(path)
            assert response.status_code == 404, (path, response.status_code)
            assert "Page not found" in response.text

        form = await browser.get(f"/ui/adjust?product={product}&variant={variant}&location={locs['STORE']}")
        assert form.status_code == 200
        assert f'value="{locs["STORE"]}"' not in form.text  # A's store is not offered
        for action in ("receive", "sale", "discard"):
            response = await browser.post(
                "/ui/adjust",
                data={
                    "csrf_token": csrf_of(form.text),
                    "location": locs["STORE"],
                    "product": product,
                    "variant": variant,
                    "action": action,
                    "quantity": "3",
                },
            )
            assert response.status_code == 400, response.text
            assert "Choose a store." in response.text

    assert await org_checksum(db, api.org) == before, "organization A's data changed"
    inventory = (await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}")).json()
    assert [v["balance"] for v in inventory["variants"] if v["variantUuid"] == variant] == ["7"]
