"""Reading recorded purchases in the Purchase API v2 shape (product-library-api §6).

A page is one read transaction of at most four statements whatever its size: the position of the
caller's hash, the page itself (one walk of ix_purchases_org_timestamp), the refunds naming the
page's purchases, and the organization's profile (defaults for country and currency).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import purchase_paging
from stockledger.domain.errors import not_found
from stockledger.domain.organization import effective, organization_id
from stockledger.domain.purchase_paging import PurchaseQuery, purchase_hash, unknown_hash
from stockledger.domain.purchase_view import OrgFacts, StoredPurchase, purchase_v2
from stockledger.exact_json import loads_exact
from stockledger.store import orgs, purchases
from stockledger.store.db import Database
from stockledger.store.sql import now_ms


@dataclass(frozen=True)
class PurchasePage:
    """Purchases in the query's order; the hashes of the first and last (None on an empty page);
    whether more purchases follow the last."""

    purchases: list[dict[str, Any]]
    first_hash: str | None
    last_hash: str | None
    more: bool


def parse_query(params: Mapping[str, str]) -> PurchaseQuery:
    """The validated query of `GET /purchases/v2` (its default dates count from now); bad → 400."""
    return purchase_paging.parse_query(params, now_ms())


def _document(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        document = loads_exact(text)
    except json.JSONDecodeError:  # pragma: no cover - only valid documents are recorded
        return None
    return document if isinstance(document, dict) else None


async def _org_facts(conn: AsyncConnection, org: str) -> OrgFacts:
    stored, _created_ms = await orgs.profile(conn, org)
    profile = effective(stored, org)
    return OrgFacts(profile.country, profile.currency, organization_id(org), profile.taxation_mode)


async def _rendered(conn: AsyncConnection, org: str, rows: list[purchases.StoredRow]) -> list[dict[str, Any]]:
    if not rows:
        return []
    refunds = await purchases.refunded_by(conn, org, [row.purchase_uuid for row in rows])
    facts = await _org_facts(conn, org)
    return [
        purchase_v2(
            StoredPurchase(
                row.purchase_uuid,
                _document(row.document),
                orjson.loads(row.result),
                row.timestamp_ms,
                row.purchase_number,
                row.refunds_purchase_uuid,
                tuple(refunds.get(row.purchase_uuid, ())),
            ),
            facts,
        )
        for row in rows
    ]


async def page(db: Database, org: str, query: PurchaseQuery) -> PurchasePage:
    """One page of the organization's purchases; a hash naming no purchase of it at that time → 400."""

    async def work(conn: AsyncConnection) -> PurchasePage:
        if query.after is not None:
            at_ms, purchase_uuid = query.after
            if await purchases.timestamp_of(conn, org, purchase_uuid) != at_ms:
                raise unknown_hash()
        rows = await purchases.page(
            conn,
            org,
            start_ms=query.start_ms,
            end_ms=query.end_ms,
            after=query.after,
            descending=query.descending,
            limit=query.limit + 1,  # one more than asked: is there a next page?
        )
        shown = rows[: query.limit]
        rendered = await _rendered(conn, org, shown)
        if not shown:
            return PurchasePage([], None, None, more=False)
        first, last = shown[0], shown[-1]
        return PurchasePage(
            rendered,
            purchase_hash(first.timestamp_ms, first.purchase_uuid),
            purchase_hash(last.timestamp_ms, last.purchase_uuid),
            more=len(rows) > query.limit,
        )

    return await db.read(work)


async def one(db: Database, org: str, purchase_uuid: str) -> dict[str, Any]:
    """The organization's purchase with that UUID; unknown (or another organization's) → 404."""

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        row = await purchases.one(conn, org, purchase_uuid)
        if row is None:
            raise not_found(f"No purchase {purchase_uuid}")
        return (await _rendered(conn, org, [row]))[0]

    return await db.read(work)
