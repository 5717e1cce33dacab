"""Back-office forms given what the API refuses: quantities beyond Decimal's 28 digits and NUL
characters get the form back with the error beside the field (never a 500), and change nothing."""

from __future__ import annotations

import pytest

from stockledger.store.db import Database
from tests.api.test_hostile_input import checksum
from tests.conftest import new_uuid
from tests.quiet_log import assert_quiet, listen
from tests.web.conftest import Ui, csrf_of
from tests.web.test_stocktake import upload

HUGE_QUANTITY = "12345678901234567890123456789012.0001"


@pytest.fixture
async def stocked(ui: Ui) -> dict[str, str]:
    locs = await ui.api.locations()
    product, variant = new_uuid(), new_uuid()
    await ui.api.track(product)
    assert (await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 5)).status_code == 200
    return {**locs, "product": product, "variant": variant}


async def adjust(ui: Ui, s: dict[str, str], **fields: str) -> tuple[int, str]:
    form = {
        "csrf_token": await ui.csrf("/ui/adjust"),
        "location": s["STORE"],
        "product": s["product"],
        "variant": s["variant"],
        "action": "receive",
        "quantity": "1",
        **fields,
    }
    response = await ui.client.post("/ui/adjust", data=form)
    return response.status_code, response.text


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"quantity": HUGE_QUANTITY}, 'id="quantity-error"'),
        ({"action": "count", "quantity": HUGE_QUANTITY}, 'id="quantity-error"'),
        ({"reference": "till\u00007"}, "The reference cannot hold the NUL character"),
    ],
    ids=["quantity", "counted", "reference"],
)
async def test_the_adjust_form_shows_the_error_and_changes_nothing(
    ui: Ui,
    db: Database,
    stocked: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, str],
    shown: str,
) -> None:
    before = await checksum(db, ui.api.org)
    listen(caplog)
    status, page = await adjust(ui, stocked, **fields)
    assert status == 400, page
    assert shown in page
    assert_quiet(caplog)
    assert await checksum(db, ui.api.org) == before


async def test_a_count_whose_hidden_expected_balance_is_huge_asks_to_confirm(
    ui: Ui, db: Database, stocked: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    s = stocked
    before = await checksum(db, ui.api.org)
    key = f"{s['STORE']}/{s['product']}/{s['variant']}"
    listen(caplog)
    status, page = await adjust(ui, s, action="count", quantity="3", expected=HUGE_QUANTITY, expected_key=key)
    assert status == 200, page  # an unreadable expected balance is as if none was shown: confirm first
    assert "Confirm the count" in page
    assert_quiet(caplog)
    assert await checksum(db, ui.api.org) == before


async def test_the_low_stock_form_shows_a_huge_level_beside_the_field(
    ui: Ui, stocked: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"/ui/variants/{stocked['product']}/{stocked['variant']}"
    token = csrf_of((await ui.client.get(url)).text)
    form = {"csrf_token": token, "location": stocked["STORE"], "level": HUGE_QUANTITY, "alert": "on"}
    listen(caplog)
    response = await ui.client.post(f"{url}/low-stock", data=form)
    assert response.status_code == 400, response.text
    assert 'id="level-error"' in response.text and "fraction digits" in response.text
    assert_quiet(caplog)
    levels = await ui.api.get(f"/custom-low-stock/v2/locations/{stocked['STORE']}")
    assert levels.json()["customLowStockLevelsForProducts"] == []


@pytest.mark.parametrize(
    ("balance", "shown"),
    [(HUGE_QUANTITY, "fraction digits"), ("1\u00002", "binary data")],
    ids=["huge", "nul"],
)
async def test_a_stocktake_file_with_a_huge_balance_or_a_nul_is_refused(
    ui: Ui,
    db: Database,
    stocked: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    balance: str,
    shown: str,
) -> None:
    before = await checksum(db, ui.api.org)
    listen(caplog)
    response = await upload(
        ui, f"productUuid,variantUuid,balance\n{stocked['product']},{stocked['variant']},{balance}\n"
    )
    assert response.status_code == 400, response.text
    assert shown in response.text
    assert_quiet(caplog)
    assert await checksum(db, ui.api.org) == before
