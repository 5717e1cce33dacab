"""The back office's navigation: one entry per page group; later page groups add theirs here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    key: str  # the `active` name a page sets to highlight its entry
    label: str
    href: str


NAV: list[NavItem] = [
    NavItem("stock", "Stock", "/ui/stock"),
    NavItem("products", "Products", "/ui/products"),
    NavItem("adjust", "Adjust stock", "/ui/adjust"),
    NavItem("low-stock", "Low stock", "/ui/low-stock"),
    NavItem("stocktake", "Stocktake", "/ui/stocktake"),
    NavItem("webhooks", "Webhooks", "/ui/webhooks"),
    NavItem("settings", "Settings", "/ui/settings"),
]
