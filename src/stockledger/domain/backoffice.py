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


POINT_OF_SALE = "Point of sale"  # who recorded a purchase's movements: the till, not a named person
MAX_KEY_LABEL_CHARS = 100  # the api_keys.label column


def parse_key_label(raw: str) -> str:
    """An API key's label as given on the command line: 1–100 printable characters, trimmed."""
    label = " ".join(raw.split())
    if not label:
        raise ValueError("the label is empty")
    if len(label) > MAX_KEY_LABEL_CHARS:
        raise ValueError(f"the label is longer than {MAX_KEY_LABEL_CHARS} characters")
    if not label.isprintable():
        raise ValueError("the label holds a control character")
    return label


def key_name(key_id: str, label: str | None) -> str:
    """How pages name an API key: its label, else its id (as `stockledger apikey list` shows it)."""
    return label or f"API key {key_id}"


def actor_shown(actor: str | None, source: str, names: dict[str, str]) -> str:
    """Who recorded a movement, in words: `names` maps ledger actors to a person's name or an API
    key's name; the point of sale records purchases; anything else is a short, recognisable id."""
    if not actor:
        return "—"
    if actor in names:
        return names[actor]
    if source == "PURCHASE" or actor.startswith("SYSTEM:"):
        return POINT_OF_SALE
    kind, sep, who = actor.rpartition(":")
    if sep:
        return f"{kind.capitalize()} {who[:8]}"
    return f"API user {actor[:8]}"


def page_numbers(current: int, count: int, *, around: int = 2) -> list[int | None]:
    """The page numbers a pager links to: the first, the last, and `around` on each side of the
    current one; None where numbers are left out (shown as "…")."""
    shown = sorted({1, count, *range(max(1, current - around), min(count, current + around) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers
