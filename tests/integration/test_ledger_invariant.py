"""Property: after any workload, every balance equals the signed sum of its movements, and every
rejected request left no trace (no movement, no event, no sequence number)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import assert_ledger_invariant, snapshot

TYPES = ["STORE", "SOLD", "BIN", "SUPPLIER"]
PRODUCTS = 3
VARIANTS = 2

units = st.integers(min_value=1, max_value=5_000)


@st.composite
def movement(draw: st.DrawFn) -> tuple[int, int, str, str, int]:
    src = draw(st.sampled_from(TYPES))
    dst = draw(st.sampled_from([t for t in TYPES if t != src]))
    return draw(st.integers(0, PRODUCTS - 1)), draw(st.integers(0, VARIANTS - 1)), src, dst, draw(units)


operation = st.one_of(
    st.tuples(st.just("move"), st.lists(movement(), min_size=1, max_size=3)),
    st.tuples(
        st.just("bulk"),
        st.lists(
            st.tuples(
                st.integers(0, PRODUCTS - 1),
                st.sampled_from(["START_TRACKING", "STOP_TRACKING", "NO_CHANGE"]),
                st.lists(movement(), max_size=2),
            ),
            min_size=1,
            max_size=2,
        ),
    ),
    st.tuples(st.just("track"), st.integers(0, PRODUCTS - 1)),
    st.tuples(st.just("untrack"), st.integers(0, PRODUCTS - 1)),
    st.tuples(
        st.just("reject"),
        st.sampled_from(["same", "unknown", "negative", "precision", "stranger"]),
        movement(),
    ),
)


@dataclass
class Model:
    """What the ledger must hold, computed independently of the service."""

    tracked: set[int] = field(default_factory=set)
    balances: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def apply(self, moves: list[tuple[int, int, str, str, int]]) -> None:
        for p, v, src, dst, amount in moves:
            self.balances[(src, p, v)] = self.balances.get((src, p, v), 0) - amount
            self.balances[(dst, p, v)] = self.balances.get((dst, p, v), 0) + amount


class Workload:
    def __init__(self, api: Api, db: Database) -> None:
        self.api, self.db, self.model = api, db, Model()
        self.products = [new_uuid() for _ in range(PRODUCTS)]
        self.variants = [[new_uuid() for _ in range(VARIANTS)] for _ in range(PRODUCTS)]
        self.locs: dict[str, str] = {}

    def change(self, m: tuple[int, int, str, str, int], *, with_product: bool = True) -> dict[str, Any]:
        p, v, src, dst, amount = m
        body = {
            "variantUuid": self.variants[p][v],
            "fromLocationUuid": self.locs[src],
            "toLocationUuid": self.locs[dst],
            "change": str(Decimal(amount).scaleb(-3)),
        }
        return {"productUuid": self.products[p], **body} if with_product else body

    async def expect_rejected(self, response: httpx.Response, before: Any) -> None:
        assert response.status_code == 400, response.text
        assert await snapshot(self.db, self.api.org) == before

    async def run(self, ops: list[Any]) -> None:
        self.locs = await self.api.locations()
        for op in ops:
            before = await snapshot(self.db, self.api.org)
            kind = op[0]
            if kind == "move":
                response = await self.api.put(
                    "/organizations/self/inventory", json={"changes": [self.change(m) for m in op[1]]}
                )
                if all(m[0] in self.model.tracked for m in op[1]):
                    assert response.status_code == 200, response.text
                    self.model.apply(op[1])
                else:
                    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
                    await self.expect_rejected(response, before)
            elif kind == "bulk":
                await self.bulk(op[1], before)
            elif kind == "track":
                assert (
                    await self.api.post(
                        "/organizations/self/inventory", json={"productUuid": self.products[op[1]]}
                    )
                ).status_code == 200
                self.model.tracked.add(op[1])
            elif kind == "untrack":
                response = await self.api.delete(
                    f"/organizations/self/inventory/products/{self.products[op[1]]}"
                )
                if op[1] in self.model.tracked:
                    assert response.status_code == 204
                    self.model.tracked.discard(op[1])
                else:
                    await self.expect_rejected(response, before)
            else:
                await self.reject(op[1], op[2], before)

    async def bulk(self, entries: list[Any], before: Any) -> None:
        tracked = set(self.model.tracked)
        valid = True
        moves = []
        for p, status, changes in entries:
            if status == "START_TRACKING":
                tracked.add(p)
            if changes and p not in tracked:
                valid = False
            moves.extend((p, *m[1:]) for m in changes)
            if status == "STOP_TRACKING":
                valid = valid and p in tracked
                tracked.discard(p)
        body = {
            "productChanges": [
                {
                    "productUuid": self.products[p],
                    "trackingStatusChange": status,
                    "variantChanges": [self.change((p, *m[1:]), with_product=False) for m in changes],
                }
                for p, status, changes in entries
            ]
        }
        response = await self.api.post("/organizations/self/v2/inventory/bulk", json=body)
        if valid:
            assert response.status_code == 200, response.text
            self.model.tracked = tracked
            self.model.apply(moves)
        else:
            await self.expect_rejected(response, before)

    async def reject(self, how: str, m: tuple[int, int, str, str, int], before: Any) -> None:
        good = self.change(m)
        bad = {
            "same": {**good, "toLocationUuid": good["fromLocationUuid"]},
            "unknown": {**good, "fromLocationUuid": new_uuid()},
            "negative": {**good, "change": "-1"},
            "precision": {**good, "change": "0.0001"},
            "stranger": {**good, "productUuid": new_uuid()},
        }[how]
        response = await self.api.put("/organizations/self/inventory", json={"changes": [good, bad]})
        await self.expect_rejected(response, before)

    async def check(self) -> None:
        snap = await assert_ledger_invariant(self.db, self.api.org)
        index = {loc: t for t, loc in self.locs.items()}
        seen = {
            (index[loc], self.products.index(p), self.variants[self.products.index(p)].index(v)): u
            for (loc, p, v), u in snap.balances.items()
        }
        assert seen == self.model.balances
        store = (await self.api.get("/inventory")).json()
        assert store["trackedProducts"] == sorted(self.products[p] for p in self.model.tracked)
        shown = {(r["productUuid"], r["variantUuid"]): r["balance"] for r in store["variants"]}
        expected = {
            (self.products[p], self.variants[p][v]): format(Decimal(u).scaleb(-3).normalize(), "f")
            for (t, p, v), u in self.model.balances.items()
            if t == "STORE" and p in self.model.tracked
        }
        assert shown == expected


async def test_balances_always_equal_the_ledger_and_rejections_leave_no_trace(
    client: httpx.AsyncClient, db: Database
) -> None:
    loop = asyncio.get_running_loop()

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(operation, min_size=1, max_size=12))
    def property_holds(ops: list[Any]) -> None:
        async def example() -> None:
            workload = Workload(Api(client, new_uuid()), db)  # a fresh organization per example
            await workload.run(ops)
            await workload.check()

        asyncio.run_coroutine_threadsafe(example(), loop).result()

    # Hypothesis drives the examples from a worker thread; each example runs on the session loop.
    await asyncio.to_thread(property_holds)
