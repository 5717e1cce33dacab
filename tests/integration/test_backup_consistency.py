"""`stockledger export` while the service keeps writing: the export is one consistent snapshot."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.backup import export_lines
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid

LEDGER_TABLES = {"balances", "movements"}


async def test_an_export_taken_during_writes_holds_balances_that_equal_its_ledger(
    api: Api, db: Database
) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 5)).status_code == 200

    async def export_with_writes_in_between(conn: AsyncConnection) -> list[dict[str, Any]]:
        lines, written_in = [], set()
        async for raw in export_lines(conn):
            line = orjson.loads(raw)
            table = line.get("table")
            if table in LEDGER_TABLES and table not in written_in:
                # A request commits while the export is between its tables.
                written_in.add(table)
                moved = await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 2)
                assert moved.status_code == 200
            lines.append(line)
        assert written_in == LEDGER_TABLES
        return lines

    lines = await db.read(export_with_writes_in_between)
    balances = {
        (r["location_uuid"], r["variant_uuid"]): int(r["units"])
        for line in lines
        if line.get("table") == "balances" and (r := line["row"])["org_uuid"] == api.org
    }
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        r = line["row"] if line.get("table") == "movements" else None
        if r is None or r["org_uuid"] != api.org:
            continue
        sums[(r["from_location_uuid"], r["variant_uuid"])] -= int(r["units"])
        sums[(r["to_location_uuid"], r["variant_uuid"])] += int(r["units"])
    assert balances == dict(sums), "the export's balances differ from the ledger it carries"
    # The writes themselves committed (they are simply not in this snapshot).
    store = await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}")
    assert [v["balance"] for v in store.json()["variants"]] == ["9"]
