"""The image service (product-library-api §4): uploads answer a lookup key and two image URLs; the
bulk upload answers `uploaded` and `invalid`; the URLs lead to the uploaded image."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.store.tables import product_images
from tests.conftest import Api, new_uuid

SINGLE = "/v2/images/organizations/self/products"
BULK = "/v2/images/organizations/self/products/bulk"
SHIRT = "https://shop.example/media/shirt.jpg"
KEY = re.compile(r"^[A-Za-z0-9_-]{22}-[A-Za-z0-9_-]{22}\.(jpeg|png|gif|bmp|tiff)$")
PNG_BYTES = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


async def images_of(db: Database, org: str) -> int:
    async def work(conn: AsyncConnection) -> int:
        count = await conn.scalar(
            select(func.count()).select_from(product_images).where(product_images.c.org_uuid == org)
        )
        return int(count or 0)

    return await db.read(work)


async def upload(api: Api, body: Any, path: str = SINGLE, status: int = 200) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_an_upload_by_url_answers_a_key_and_the_original_and_large_urls(api: Api) -> None:
    body = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT, "imageData": None})
    key = body["imageLookupKey"]
    assert KEY.match(key) and key.endswith(".jpeg") and len(key) <= 191
    assert body["imageUrls"] == [
        f"http://stockledger.test/productimage/o/{key}",
        f"http://stockledger.test/productimage/L/{key}",
    ]


async def test_the_same_image_gets_the_same_key_and_another_image_another(api: Api, db: Database) -> None:
    first = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    again = await upload(api, {"imageFormat": "jpeg", "imageUrl": SHIRT})
    other = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT + "?v=2"})
    as_png = await upload(api, {"imageFormat": "PNG", "imageUrl": SHIRT})
    assert first == again
    assert len({first["imageLookupKey"], other["imageLookupKey"], as_png["imageLookupKey"]}) == 3
    assert await images_of(db, api.org) == 3


async def test_concurrent_uploads_of_one_image_agree_on_its_key(api: Api, db: Database) -> None:
    body = {"imageFormat": "JPEG", "imageUrl": SHIRT}
    answers = await asyncio.gather(*(upload(api, body) for _ in range(6)))
    assert len({answer["imageLookupKey"] for answer in answers}) == 1
    assert await images_of(db, api.org) == 1


async def test_keys_are_the_organizations_own(api: Api, other_api: Api) -> None:
    mine = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    theirs = await upload(other_api, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    assert mine["imageLookupKey"] != theirs["imageLookupKey"]


async def test_an_upload_of_base64_bytes_is_keyed_by_its_content(api: Api) -> None:
    """BjornTech falls back to `imageData` (base64) with PNG when an upload by URL fails."""
    body = await upload(api, {"imageFormat": "PNG", "imageData": PNG_BYTES, "imageUrl": None})
    assert body["imageLookupKey"].endswith(".png")
    assert await upload(api, {"imageFormat": "PNG", "imageData": PNG_BYTES}) == body


async def test_the_organization_may_be_named_by_its_uuid(api: Api) -> None:
    by_uuid = await upload(
        api, {"imageFormat": "GIF", "imageUrl": SHIRT}, f"/v2/images/organizations/{api.org}/products/"
    )
    assert by_uuid == await upload(api, {"imageFormat": "GIF", "imageUrl": SHIRT})


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"imageUrl": SHIRT}, "imageFormat"),
        ({"imageFormat": "WEBP", "imageUrl": SHIRT}, "imageFormat"),
        ({"imageFormat": "JPEG"}, "imageUrl"),
        ({"imageFormat": "JPEG", "imageUrl": None, "imageData": None}, "imageUrl"),
        ({"imageFormat": "JPEG", "imageUrl": "ftp://shop.example/a.jpg"}, "imageUrl"),
        ({"imageFormat": "JPEG", "imageUrl": "/media/a.jpg"}, "imageUrl"),
        ({"imageFormat": "JPEG", "imageUrl": 42}, "imageUrl"),
        ({"imageFormat": "JPEG", "imageUrl": "https://shop.example/a.jpg\r\nSet-Cookie: x=1"}, "imageUrl"),
        ({"imageFormat": "JPEG", "imageUrl": "https://x.example/" + "a" * 2100}, "imageUrl"),
        ({"imageFormat": "PNG", "imageData": "not base64!"}, "imageData"),
        ({"imageFormat": "PNG", "imageData": ""}, "imageData"),
        ([], ""),
    ],
)
async def test_a_bad_upload_is_400_naming_the_property_and_records_nothing(
    api: Api, db: Database, body: Any, name: str
) -> None:
    answer = await upload(api, body, status=400)
    assert answer["errorType"] == "VALIDATION_ERROR" and isinstance(answer["developerMessage"], str)
    assert answer["violations"][0]["propertyName"] == name
    assert await images_of(db, api.org) == 0


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.post(SINGLE, content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and isinstance(response.json()["developerMessage"], str)


async def test_a_bulk_upload_answers_uploaded_with_the_source_and_invalid(api: Api, db: Database) -> None:
    """SwagPayPal matches `uploaded[].source` to its media and iterates `invalid` (strings)."""
    uploads = [
        {"imageFormat": "JPEG", "imageUrl": SHIRT, "imageLookupKey": None},
        {"imageFormat": "WEBP", "imageUrl": "https://shop.example/a.webp", "imageLookupKey": None},
        {"imageFormat": "PNG", "imageUrl": "https://shop.example/b.png"},
        {"imageFormat": "PNG"},
    ]
    body = await upload(api, {"imageUploads": uploads}, BULK)
    assert [u["source"] for u in body["uploaded"]] == [SHIRT, "https://shop.example/b.png"]
    assert body["invalid"] == ["https://shop.example/a.webp", '{"imageFormat":"PNG"}']
    single = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    assert body["uploaded"][0]["imageLookupKey"] == single["imageLookupKey"]
    assert body["uploaded"][0]["imageUrls"] == single["imageUrls"]
    assert await images_of(db, api.org) == 2


async def test_a_bulk_reupload_under_its_key_keeps_the_key(api: Api) -> None:
    """SwagPayPal sends the key it got before when the image changed."""
    first = (await upload(api, {"imageUploads": [{"imageFormat": "JPEG", "imageUrl": SHIRT}]}, BULK))[
        "uploaded"
    ][0]
    changed = {"imageFormat": "JPEG", "imageUrl": SHIRT + "?v=2", "imageLookupKey": first["imageLookupKey"]}
    again = (await upload(api, {"imageUploads": [changed]}, BULK))["uploaded"][0]
    assert again["imageLookupKey"] == first["imageLookupKey"]
    assert again["source"] == SHIRT + "?v=2"
    redirect = await api.client.get(f"/productimage/o/{first['imageLookupKey']}")
    assert redirect.headers["location"] == SHIRT + "?v=2"
    # The original image, uploaded again without a key, gets a key of its own.
    original = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    assert original["imageLookupKey"] != first["imageLookupKey"]
    location = (await api.client.get(f"/productimage/L/{original['imageLookupKey']}")).headers["location"]
    assert location == SHIRT


async def test_a_key_of_another_organization_is_not_taken_over(api: Api, other_api: Api) -> None:
    mine = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    hijack = {
        "imageFormat": "JPEG",
        "imageUrl": "https://evil.example/x.jpg",
        "imageLookupKey": mine["imageLookupKey"],
    }
    theirs = (await upload(other_api, {"imageUploads": [hijack]}, BULK))["uploaded"][0]
    assert theirs["imageLookupKey"] != mine["imageLookupKey"]
    assert (await api.client.get(f"/productimage/o/{mine['imageLookupKey']}")).headers["location"] == SHIRT


async def test_one_upload_not_wrapped_in_a_list_is_a_bulk_of_one(api: Api) -> None:
    body = await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT}, BULK)
    assert [u["source"] for u in body["uploaded"]] == [SHIRT] and body["invalid"] == []


@pytest.mark.parametrize("body", [{}, {"imageUploads": "x"}, [], {"imageUploads": [{}] * 1001}])
async def test_a_bulk_body_without_a_list_of_uploads_is_400(api: Api, db: Database, body: Any) -> None:
    answer = await upload(api, body, BULK, status=400)
    assert answer["violations"][0]["propertyName"] == "imageUploads"
    assert await images_of(db, api.org) == 0


async def test_all_invalid_records_nothing(api: Api, db: Database) -> None:
    body = await upload(api, {"imageUploads": [{"imageFormat": "JPEG"}, 7]}, BULK)
    assert body == {"uploaded": [], "invalid": ['{"imageFormat":"JPEG"}', "7"]}
    assert await images_of(db, api.org) == 0


@pytest.mark.parametrize("path", [SINGLE, BULK])
async def test_uploading_needs_write_product(api: Api, path: str) -> None:
    reader = Api(api.client, api.org, scopes="READ:PRODUCT READ:PURCHASE")
    response = await reader.post(path, json={"imageFormat": "JPEG", "imageUrl": SHIRT})
    assert response.status_code == 403 and response.json()["errorType"] == "FORBIDDEN"
    response = await api.client.post(path, json={"imageFormat": "JPEG", "imageUrl": SHIRT})
    assert response.status_code == 401


async def test_another_organizations_path_is_refused(api: Api) -> None:
    response = await api.post(
        f"/v2/images/organizations/{new_uuid()}/products", json={"imageFormat": "JPEG", "imageUrl": SHIRT}
    )
    assert response.status_code == 403 and isinstance(response.json()["developerMessage"], str)


async def test_image_urls_redirect_to_the_source_without_a_token(api: Api) -> None:
    key = (await upload(api, {"imageFormat": "JPEG", "imageUrl": SHIRT}))["imageLookupKey"]
    for size in ("o", "L"):
        response = await api.client.get(f"/productimage/{size}/{key}")
        assert response.status_code == 302 and response.headers["location"] == SHIRT


@pytest.mark.parametrize("size", ["o", "X"])
async def test_unknown_images_bytes_and_other_sizes_are_404(api: Api, size: str) -> None:
    data_key = (await upload(api, {"imageFormat": "PNG", "imageData": PNG_BYTES}))["imageLookupKey"]
    url_key = (await upload(api, {"imageFormat": "PNG", "imageUrl": SHIRT}))["imageLookupKey"]
    for key in (data_key, "nothing.png") + ((url_key,) if size == "X" else ()):
        response = await api.client.get(f"/productimage/{size}/{key}")
        assert response.status_code == 404 and response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_image_urls_point_where_the_operator_says(settings: Settings, db: Database, api: Api) -> None:
    """STOCKLEDGER_IMAGE_BASE_URL: the public address behind a proxy that rewrites the host."""
    app = create_app(settings.with_overrides(image_base_url="https://img.shop.example/"), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://internal:8000") as http:
        proxied = Api(http, api.org)
        body = await upload(proxied, {"imageFormat": "JPEG", "imageUrl": SHIRT})
    key = body["imageLookupKey"]
    assert body["imageUrls"] == [
        f"https://img.shop.example/productimage/o/{key}",
        f"https://img.shop.example/productimage/L/{key}",
    ]


async def test_the_python_packages_if_match_header_is_ignored(api: Api) -> None:
    response = await api.post(
        SINGLE, json={"imageFormat": "PNG", "imageUrl": SHIRT}, headers={"IF-Match": "*"}
    )
    assert response.status_code == 200 and KEY.match(response.json()["imageLookupKey"])
