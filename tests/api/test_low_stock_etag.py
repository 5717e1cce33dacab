"""ETags of the low-stock fetches: strong, 304 on a match, changed exactly when the configuration is."""

from __future__ import annotations

from tests.api.low_stock_support import base, fetch, put
from tests.conftest import Api, new_uuid


async def etag(api: Api, path: str) -> str:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    tag = response.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"')  # strong: no W/ prefix
    return tag


async def test_if_none_match_with_current_tag_answers_304_without_body(api: Api) -> None:
    store = (await api.locations())["STORE"]
    await put(api, store, new_uuid(), new_uuid(), lowStockLevel=5, lowStockAlert=True)
    tag = await etag(api, fetch(store))
    for header in (tag, f'"other", {tag}', f'W/"x",W/{tag}', "*"):
        response = await api.get(fetch(store), headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
    response = await api.get(fetch(store), headers={"If-None-Match": '"stale", "older"'})
    assert response.status_code == 200
    assert response.json()["customLowStockLevelsForProducts"]


async def test_product_fetch_honours_if_none_match(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product = new_uuid()
    path = f"{fetch(store)}/products/{product}"
    tag = await etag(api, path)
    response = await api.get(path, headers={"If-None-Match": tag})
    assert response.status_code == 304 and response.content == b""
    await put(api, store, product, new_uuid(), lowStockAlert=True)
    response = await api.get(path, headers={"If-None-Match": tag})
    assert response.status_code == 200
    assert response.headers["etag"] != tag


async def test_location_tag_changes_exactly_when_its_configuration_changes(api: Api) -> None:
    locs = await api.locations()
    store, path = locs["STORE"], fetch(locs["STORE"])
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put(api, store, product, variant, lowStockLevel=5, lowStockAlert=True)
    tag = await etag(api, path)

    await put(api, locs["BIN"], product, variant, lowStockLevel=1, lowStockAlert=True)
    assert await etag(api, path) == tag, "another location's change"
    response = await api.move(product, variant, locs["SUPPLIER"], store, 3)
    assert response.status_code == 200
    assert await etag(api, path) == tag, "a balance movement"
    await put(api, store, product, variant, lowStockLevel=5, lowStockAlert=True)
    assert await etag(api, path) == tag, "a PUT storing the same values"
    response = await api.delete(f"{base(store)}/products/{new_uuid()}/variants/{new_uuid()}")
    assert response.status_code == 202
    assert await etag(api, path) == tag, "a DELETE of nothing"

    await put(api, store, product, variant, lowStockLevel=4, lowStockAlert=True)
    changed = await etag(api, path)
    assert changed != tag, "a PUT changing the level"
    await put(api, store, product, variant, lowStockLevel=4, lowStockAlert=False)
    assert await etag(api, path) not in {tag, changed}, "a PUT changing the alert"
    current = await etag(api, path)
    response = await api.delete(f"{base(store)}/products/{product}/variants/{variant}")
    assert response.status_code == 202
    assert await etag(api, path) != current, "a DELETE removing the configuration"


async def test_product_tag_ignores_other_products_of_the_location(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product, variant = new_uuid(), new_uuid()
    await put(api, store, product, variant, lowStockLevel=2)
    path = f"{fetch(store)}/products/{product}"
    tag = await etag(api, path)
    location_tag = await etag(api, fetch(store))

    await put(api, store, new_uuid(), new_uuid(), lowStockAlert=True)
    assert await etag(api, path) == tag
    assert await etag(api, fetch(store)) != location_tag

    await put(api, store, product, new_uuid(), lowStockAlert=True)
    assert await etag(api, path) != tag
