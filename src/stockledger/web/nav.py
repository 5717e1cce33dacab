"""The back office's navigation: one entry per page group; later page groups add theirs here."""

from __future__ import annotations

from dataclasses import dataclass

from stockledger.domain.accounts import Permission


@dataclass(frozen=True)
class NavItem:
    key: str  # the `active` name a page sets to highlight its entry
    label: str
    href: str
    needs: Permission  # shown only to those who may open it


NAV: list[NavItem] = [
    NavItem("stock", "Stock", "/ui/stock", Permission.VIEW),
    NavItem("adjust", "Adjust stock", "/ui/adjust", Permission.STOCK),
    NavItem("low-stock", "Low stock", "/ui/low-stock", Permission.VIEW),
    NavItem("stocktake", "Stocktake", "/ui/stocktake", Permission.STOCK),
    NavItem("webhooks", "Webhooks", "/ui/webhooks", Permission.WEBHOOKS),
    NavItem("people", "People", "/ui/people", Permission.PEOPLE),
    NavItem("settings", "Settings", "/ui/settings", Permission.VIEW),
]
