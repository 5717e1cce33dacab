"""The back office in a real headless Chromium against a real `stockledger serve`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server

# Playwright is a test extra: without it these tests are skipped, except under CI where they must run.
if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def test_sign_in_shows_the_stock_overview(page: Any, server: Server) -> None:
    server.add_product("Beeswax candle", [("Large", "CAN-L", 12)])
    page.goto("/ui/stock")
    expect(page).to_have_url(f"{server.base_url}/ui/signin?next=%2Fui%2Fstock")
    page.get_by_label("E-mail address").fill(server.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("not right")
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Stock in Main store")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Beeswax candle")
    expect(row).to_contain_text("Large")
    expect(row).to_contain_text("12")
    page.get_by_label("Search").fill("CAN-L")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the match


def test_recording_a_sale_with_the_keyboard_changes_balance_and_history(page: Any, server: Server) -> None:
    product, (variant,) = server.add_product("Linen apron", [("Natural", "APR-N", 10)])
    sign_in(page, server)
    page.goto(f"/ui/variants/{product}/{variant}")
    expect(page.locator('[data-location-type="STORE"]')).to_have_text("10")
    page.get_by_role("link", name="Adjust stock").last.click()
    page.get_by_label("Record a sale").check()
    page.get_by_label("Quantity").focus()
    page.keyboard.type("3")
    page.keyboard.press("Tab")  # to the reference field
    page.keyboard.type("till-42")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Sale recorded.")
    expect(page.locator('[data-location-type="STORE"]')).to_have_text("7")
    expect(page.locator('[data-total="sold"]')).to_have_text("3")
    newest = page.locator("table.history tbody tr").first
    expect(newest).to_contain_text("Main store → Sold")
    expect(newest).to_contain_text("till-42")
    page.goto("/ui/stock?q=APR-N")
    expect(page.get_by_role("row").filter(has_text="Linen apron")).to_contain_text("7")


def test_an_adjustment_error_is_shown_next_to_the_field(page: Any, server: Server) -> None:
    product, (variant,) = server.add_product("Tea towel", [("Striped", "TT-S", 4)])
    sign_in(page, server)
    page.goto(f"/ui/adjust?product={product}&variant={variant}&action=discard")
    page.get_by_label("Quantity").fill("-2")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#quantity-error")).to_contain_text("greater than 0")
    expect(page.get_by_label("Quantity")).to_have_attribute("aria-invalid", "true")


def test_a_forged_form_post_without_the_csrf_token_is_rejected(page: Any, server: Server) -> None:
    product, (variant,) = server.add_product("Soap", [("Lavender", "SOAP-L", 5)])
    sign_in(page, server)
    page.evaluate(
        """([product, variant]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/ui/adjust";
            const fields = {action: "discard", product, variant, quantity: "5"};
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [product, variant],
    )
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.goto(f"/ui/variants/{product}/{variant}")
    expect(page.locator('[data-location-type="STORE"]')).to_have_text("5")


def test_sign_out_ends_the_session(page: Any, server: Server) -> None:
    sign_in(page, server)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/ui/stock")
    expect(page).to_have_url(f"{server.base_url}/ui/signin?next=%2Fui%2Fstock")


def test_a_malicious_product_name_is_shown_as_text_and_never_runs(page: Any, server: Server) -> None:
    evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    product, (variant,) = server.add_product(evil, [("<b>v</b>", "EVIL-1", 1)])
    sign_in(page, server)
    for path in ("/ui/stock?q=EVIL-1", f"/ui/variants/{product}/{variant}"):
        page.goto(path)
        expect(page.get_by_text(evil).first).to_be_visible()
        assert page.evaluate("window.pwned") is None
        assert page.locator("main img").count() == 0
