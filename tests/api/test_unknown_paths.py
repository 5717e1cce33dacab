"""An unknown path answers 404, even where a route's template matches it with another method."""

from __future__ import annotations

import pytest

from tests.api.test_errors import assert_error
from tests.conftest import Api, new_uuid


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # An old client's call: it matched the template of PUT /organizations/{org}/locations/{uuid}.
        ("GET", "/organizations/self/locations/template"),
        ("GET", "/organizations/self/locations/template/"),
        ("DELETE", "/organizations/self/locations/template"),
        ("POST", "/organizations/self/inventory/locations/nothing/products/else"),
        ("GET", "/organizations/not-an-organization/settings/x"),
        ("PATCH", "/organizations/{org}/locations"),
    ],
)
async def test_a_path_that_names_nothing_is_not_found(api: Api, method: str, path: str) -> None:
    assert_error(await api.request(method, path), 404, "ENTITY_NOT_FOUND")


async def test_a_real_resource_with_a_wrong_method_is_still_method_not_allowed(api: Api) -> None:
    store = (await api.locations())["STORE"]
    assert_error(await api.delete(f"/organizations/self/locations/{store}"), 405, "METHOD_NOT_ALLOWED")
    assert_error(await api.get(f"/organizations/{api.org}/locations/{new_uuid()}"), 405, "METHOD_NOT_ALLOWED")


async def test_the_right_method_with_a_bad_uuid_still_names_the_parameter(api: Api) -> None:
    response = await api.put("/organizations/self/locations/template", json={"name": "x"})
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["violations"][0]["propertyName"] == "locationUuid"
