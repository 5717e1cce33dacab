"""People in a real browser: the owner adds a read-only colleague, who replaces the temporary
password at first sign-in and then sees the stock without the forms that change it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server

if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def test_an_owner_adds_a_read_only_colleague_who_chooses_a_password(
    page: Any, browser: Any, server: Server
) -> None:
    server.add_product("Enamel cup", [("Green", "CUP-G", 6)])
    sign_in(page, server)
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name").fill("Rita Reader")
    page.get_by_label("E-mail address").fill("rita@example.com")
    page.get_by_label("Read-only").check()
    page.get_by_role("button", name="Add").click()
    temporary = page.locator("[data-temporary-password]").inner_text()
    expect(page.locator("#issued")).to_contain_text("rita@example.com")

    context = browser.new_context(base_url=server.base_url)
    try:
        rita = context.new_page()
        rita.goto("/ui/signin")
        rita.get_by_label("E-mail address").fill("Rita@Example.com")
        rita.get_by_label("Password").fill(temporary)
        rita.get_by_role("button", name="Sign in").click()
        expect(rita).to_have_url(f"{server.base_url}/ui/account")
        rita.get_by_label("Current password").fill(temporary)
        rita.locator("#new").fill("ritas own password")
        rita.get_by_label("New password again").fill("ritas own password")
        rita.get_by_role("button", name="Change password").click()
        expect(rita.get_by_role("status")).to_contain_text("Password changed")
        rita.goto("/ui/stock")
        expect(rita.get_by_role("row").filter(has_text="Enamel cup")).to_contain_text("6")
        expect(rita.get_by_role("link", name="Adjust stock")).to_have_count(0)
        expect(rita.get_by_role("link", name="Rita Reader · read-only")).to_be_visible()
    finally:
        context.close()
    page.goto("/ui/people")
    expect(page.locator('tr[data-email="rita@example.com"] [data-status]')).to_have_text("active")
