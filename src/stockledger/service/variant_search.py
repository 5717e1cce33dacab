"""Finding a variant by what a shop owner knows of it: a name, a SKU or a barcode (typed, or scanned
by a barcode scanner), over the Product Library; with each variant's tracking state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import products as p
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.store import library, products
from stockledger.store.db import Database

MAX_CHOICES = 10  # a type-ahead list a person reads at a glance; the rest is a longer search away
MAX_TEXT_CHARS = 256  # longer than any name, SKU or barcode the library holds


@dataclass(frozen=True)
class VariantChoice:
    product_uuid: str
    variant_uuid: str
    product_name: str | None
    variant_name: str | None
    sku: str | None
    barcode: str | None
    tracked: bool


@dataclass(frozen=True)
class VariantSearch:
    """`exact`: the variants whose barcode or SKU is the text itself (a scan names one variant, or a
    few when a code is shared); `choices`: those first, then the other variants that contain the
    text (at most MAX_CHOICES); `more`: further variants matched."""

    exact: list[VariantChoice]
    choices: list[VariantChoice]
    more: bool


def _contains(value: str | None, needle: str) -> bool:
    return value is not None and needle in value.lower()


def _matching_variants(product: p.Product, needle: str) -> list[p.Variant]:
    """All variants when the product itself matches, else those that match on their own (all of
    them again when none does here: the database matched the product, whose letter case rules may
    differ from Python's)."""
    variants = p.listed_variants(product)
    if _contains(product.name, needle) or needle in product.uuid:
        return list(variants)
    own = [
        v
        for v in variants
        if _contains(v.name, needle) or _contains(v.sku, needle) or _contains(v.barcode, needle)
        or needle in v.uuid
    ]  # fmt: skip
    return own or list(variants)


async def search_variants(
    db: Database, actor: Actor, text: str, *, limit: int = MAX_CHOICES, scanned: bool = False
) -> VariantSearch:
    """Variants of the library matching `text` (blank: none), in one read transaction. `scanned`: the
    text was entered (a scanner's Enter): when it is exactly one variant's code, that variant alone
    is answered, from the indexed lookup, without searching the rest of the library."""
    code = text.strip()[:MAX_TEXT_CHARS]
    if not code:
        return VariantSearch([], [], False)
    needle = code.lower()
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> VariantSearch:
        exact_keys = await library.with_code(conn, actor.org, code, limit=limit)
        found: list[p.Product] = []
        if not (scanned and len(exact_keys) == 1):
            # Every listed product has a variant, so `limit` products hold enough variants.
            found = await library.search_page(conn, actor.org, code, after=None, limit=limit + 1)
        by_uuid = {product.uuid: product for product in found}
        missing = {product for product, _ in exact_keys} - set(by_uuid)
        by_uuid.update(await library.load(conn, actor.org, missing))
        tracked = await products.tracked_among(conn, actor.org, by_uuid)

        def choice(product: p.Product, variant: p.Variant) -> VariantChoice:
            return VariantChoice(
                product.uuid,
                variant.uuid,
                product.name or None,
                variant.name,
                variant.sku,
                variant.barcode,
                product.uuid in tracked,
            )

        exact = [
            choice(product, variant)
            for product_uuid, variant_uuid in exact_keys
            if (product := by_uuid.get(product_uuid)) is not None
            for variant in product.variants
            if variant.uuid == variant_uuid
        ]
        seen = {(c.product_uuid, c.variant_uuid) for c in exact}
        choices = list(exact)
        for product in found:
            for variant in _matching_variants(product, needle):
                if (product.uuid, variant.uuid) not in seen:
                    seen.add((product.uuid, variant.uuid))
                    choices.append(choice(product, variant))
        more = len(choices) > limit or len(found) > limit
        return VariantSearch(exact, choices[:limit], more)

    return await db.read(work)
