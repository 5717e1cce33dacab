"""GET /purchases/v2 (product-library-api §6.1): dates, order, limits and keyset paging by the hashes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import event

from stockledger.domain.purchase_fields import uuid_b64
from stockledger.domain.purchase_paging import purchase_hash
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid

PURCHASES = "/organizations/self/purchases"
DAY_MS = 86_400_000
BASE_MS = 1_714_557_600_000  # 2024-05-01T10:00:00Z
_NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


async def record(api: Api, timestamp_ms: int, purchase_uuid: str | None = None) -> str:
    purchase_uuid = purchase_uuid or new_uuid()
    document = {"purchaseUuid": purchase_uuid, "timestamp": timestamp_ms, "products": []}
    response = await api.post(PURCHASES, json=document)
    assert response.status_code == 200, response.text
    return purchase_uuid


async def listed(api: Api, query: str = "", status: int = 200) -> dict[str, Any]:
    response = await api.get(f"/purchases/v2{query}")
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def next_path(page: dict[str, Any]) -> str | None:
    """The path and query of the page's `rel="next"` link, or None."""
    if not page["linkUrls"]:
        return None
    [link] = page["linkUrls"]
    match = _NEXT.match(link)
    assert match, link
    parts = urlsplit(match.group("url"))
    return f"{parts.path}?{parts.query}"


async def follow(api: Api, path: str) -> list[dict[str, Any]]:
    """Every page from the one at `path`, following linkUrls."""
    pages: list[dict[str, Any]] = []
    next_page: str | None = path
    while next_page is not None:
        response = await api.get(next_page)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        next_page = next_path(pages[-1])
    return pages


def uuids(page: dict[str, Any]) -> list[str]:
    return [purchase["purchaseUUID1"] for purchase in page["purchases"]]


@pytest.fixture
async def seven(api: Api) -> list[tuple[int, str]]:
    """Seven purchases on four days, two of them at the same millisecond; in (timestamp, UUID) order."""
    stamps = [BASE_MS + 3 * DAY_MS, BASE_MS, BASE_MS + DAY_MS, BASE_MS + DAY_MS, BASE_MS + 2 * DAY_MS]
    stamps += [BASE_MS + 5, BASE_MS + 4 * DAY_MS]
    made = [(stamp, await record(api, stamp)) for stamp in stamps]
    return sorted(made)


async def test_pages_cover_every_purchase_exactly_once_in_timestamp_order(
    api: Api, seven: list[tuple[int, str]]
) -> None:
    pages = await follow(api, "/purchases/v2?limit=2&startDate=2024-01-01")
    assert [len(page["purchases"]) for page in pages] == [2, 2, 2, 1]
    assert [u for page in pages for u in uuids(page)] == [u for _, u in seven]
    for page in pages:
        first, last = page["purchases"][0], page["purchases"][-1]
        assert page["firstPurchaseHash"] == purchase_hash(_ms(first), first["purchaseUUID1"])
        assert page["lastPurchaseHash"] == purchase_hash(_ms(last), last["purchaseUUID1"])
        assert page["lastPurchaseHash"].endswith(uuid_b64(last["purchaseUUID1"]))
    assert pages[-1]["linkUrls"] == []


async def test_descending_pages_cover_every_purchase_newest_first(
    api: Api, seven: list[tuple[int, str]]
) -> None:
    pages = await follow(api, "/purchases/v2?limit=3&descending=true&startDate=2024-01-01")
    assert [u for page in pages for u in uuids(page)] == [u for _, u in reversed(seven)]


def _ms(purchase: dict[str, Any]) -> int:
    from datetime import datetime

    return int(datetime.strptime(purchase["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


async def test_the_next_link_repeats_the_callers_parameters(api: Api, seven: list[tuple[int, str]]) -> None:
    page = await listed(api, "?limit=2&descending=True&startDate=2024-01-01&endDate=2030-01-01")
    [link] = page["linkUrls"]
    assert link == (
        "<http://stockledger.test/purchases/v2?limit=2&startDate=2024-01-01&endDate=2030-01-01"
        f'&descending=True&lastPurchaseHash={page["lastPurchaseHash"]}>; rel="next"'
    )


async def test_purchases_recorded_while_paging_shift_no_page(api: Api, seven: list[tuple[int, str]]) -> None:
    """Keyset paging: a purchase recorded before the position already read is never on a later page
    (nothing twice, nothing skipped), one recorded after it appears on a later page."""
    first = await listed(api, "?limit=3&startDate=2024-01-01")
    early = await record(api, BASE_MS - 1)  # before every page read so far
    late = await record(api, BASE_MS + 10 * DAY_MS)
    rest = await follow(api, next_path(first) or "")
    seen = uuids(first) + [u for page in rest for u in uuids(page)]
    assert seen == [u for _, u in seven] + [late]
    assert early not in seen and len(seen) == len(set(seen))


async def test_the_last_hash_alone_continues_with_purchases_recorded_later(
    api: Api, seven: list[tuple[int, str]]
) -> None:
    """BjornTech keeps `lastPurchaseHash` and later asks with it alone (no dates, no limit)."""
    now_ms = int(time.time() * 1000)
    recent = [await record(api, now_ms - 60_000 + i) for i in range(2)]
    everything = await listed(api)
    assert uuids(everything) == [u for _, u in seven] + recent
    cursor = everything["lastPurchaseHash"]
    assert (await listed(api, f"?lastPurchaseHash={cursor}"))["purchases"] == []
    newer = await record(api, now_ms - 30_000)
    assert uuids(await listed(api, f"/?lastPurchaseHash={cursor}")) == [newer]


async def test_an_empty_page_has_no_hashes_and_no_link(api: Api) -> None:
    assert await listed(api) == {
        "purchases": [],
        "firstPurchaseHash": None,
        "lastPurchaseHash": None,
        "linkUrls": [],
    }


async def test_start_is_inclusive_and_end_exclusive(api: Api, seven: list[tuple[int, str]]) -> None:
    day_two = [u for stamp, u in seven if stamp == BASE_MS + DAY_MS]
    page = await listed(api, "?startDate=2024-05-02T10:00:00.000Z&endDate=2024-05-03T10:00:00Z")
    assert uuids(page) == day_two


@pytest.mark.parametrize(
    "start",
    [
        "2024-05-02",
        "2024-05-02T10:00",
        "2024-05-02T10:00:00",
        "2024-05-02T10:00:00.000000",
        "2024-05-02T10:00:00Z",
        "2024-05-02T12:00:00+02:00",
        "2024-05-02T10:00:00+0000",
    ],
)
async def test_start_dates_in_every_form_clients_send(
    api: Api, seven: list[tuple[int, str]], start: str
) -> None:
    """ZettleInventoryTracker sends Python's isoformat(), BjornTech PHP's date('c') (its `+`
    percent-encoded), the docs dates."""
    page = await listed(api, f"?startDate={quote(start)}&endDate=2024-05-03T10%3A00%3A00")
    assert uuids(page) == [u for stamp, u in seven if stamp == BASE_MS + DAY_MS]


async def test_the_query_url_with_a_trailing_slash_works(api: Api, seven: list[tuple[int, str]]) -> None:
    """BjornTech: `…/purchases/v2/?startDate=…`."""
    page = await listed(api, "/?startDate=2024-05-05T10:00:00%2B00:00")
    assert uuids(page) == [seven[-1][1]]


async def test_purchases_older_than_three_years_need_a_start_date(api: Api) -> None:
    now_ms = int(time.time() * 1000)
    old = await record(api, now_ms - 4 * 366 * DAY_MS)
    recent = await record(api, now_ms - DAY_MS)
    assert uuids(await listed(api)) == [recent]
    assert uuids(await listed(api, "?startDate=2000-01-01")) == [old, recent]


async def test_future_purchases_wait_for_their_time_unless_asked_for(api: Api) -> None:
    later = await record(api, int(time.time() * 1000) + DAY_MS)
    assert uuids(await listed(api)) == []
    assert uuids(await listed(api, "?endDate=2999-01-01")) == [later]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?limit=0", ["limit"]),
        ("?limit=1001", ["limit"]),
        ("?limit=ten", ["limit"]),
        ("?descending=yes", ["descending"]),
        ("?startDate=yesterday&endDate=2024-13-01", ["startDate", "endDate"]),
        ("?startDate=2024-05-02&endDate=2024-05-01", ["endDate"]),
        ("?lastPurchaseHash=not-a-hash", ["lastPurchaseHash"]),
    ],
)
async def test_bad_parameters_are_400_naming_each(api: Api, query: str, names: list[str]) -> None:
    body = await listed(api, query, status=400)
    assert body["errorType"] == "VALIDATION_ERROR" and isinstance(body["developerMessage"], str)
    assert [v["propertyName"] for v in body["violations"]] == names


async def test_a_hash_of_no_purchase_of_the_organization_is_400(
    api: Api, other_api: Api, seven: list[tuple[int, str]]
) -> None:
    stamp, purchase_uuid = seven[2]
    assert (await listed(api, f"?lastPurchaseHash={purchase_hash(stamp, purchase_uuid)}"))["purchases"]
    for forged in (purchase_hash(stamp + 1, purchase_uuid), purchase_hash(stamp, new_uuid())):
        body = await listed(api, f"?lastPurchaseHash={forged}", status=400)
        assert body["violations"][0]["propertyName"] == "lastPurchaseHash"
    # Another organization's hash names nothing of this one.
    await listed(other_api, f"?lastPurchaseHash={purchase_hash(stamp, purchase_uuid)}", status=400)


async def test_no_link_header_is_sent(api: Api, seven: list[tuple[int, str]]) -> None:
    """BjornTech follows any Link header and merges the pages into a fatal error."""
    response = await api.get("/purchases/v2?limit=1")
    assert response.status_code == 200 and "link" not in response.headers
    assert len(response.json()["linkUrls"]) == 1


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "purchases" in statement or "organizations" in statement:
            statements.append(statement)

    engine = db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record_statement)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record_statement)


async def test_a_page_costs_the_same_few_statements_whatever_its_size(api: Api, db: Database) -> None:
    original = await record(api, BASE_MS)
    for i in range(40):
        refund = {
            "purchaseUuid": new_uuid(),
            "timestamp": BASE_MS + 1 + i,
            "refund": True,
            "refundsPurchaseUUID1": original,
            "products": [],
        }
        assert (await api.post(PURCHASES, json=refund)).status_code == 200
    cursor = purchase_hash(BASE_MS, original)
    with counted(db) as small:
        assert len((await listed(api, "?startDate=2024-01-01&limit=1"))["purchases"]) == 1
    with counted(db) as large:
        page = await listed(api, f"?startDate=2024-01-01&limit=1000&lastPurchaseHash={cursor}")
    assert len(page["purchases"]) == 40
    # the page, the refunds naming its purchases, the profile (+ the hash's position)
    assert len(small) == 3 and len(large) == 4, (small, large)
    first = await listed(api, "?startDate=2024-01-01&limit=1")
    assert len(first["purchases"][0]["refundedByPurchaseUUIDs1"]) == 40
