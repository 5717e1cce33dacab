"""What the back office shows of stock: its sort orders and a variant's names (no rules, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StockSort = Literal["name", "balance", "-balance"]
STOCK_SORTS: tuple[StockSort, ...] = ("name", "balance", "-balance")


@dataclass(frozen=True)
class VariantNames:
    product_name: str | None
    variant_name: str | None
    sku: str | None
    barcode: str | None
