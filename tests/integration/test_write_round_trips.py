"""The statements one PUT executes under the organization lock (bench/limit.py mirrors them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from stockledger.store import driver_sql
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid


@contextmanager
def captured(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    # The write path's busiest statements bypass SQLAlchemy's execution (and its events).
    stop_observing = driver_sql.observe(engine, lambda statement: record(None, None, statement))
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        stop_observing()


def _write_path(statements: list[str]) -> list[str]:
    """The statements from the lock on, by their first words."""
    start = next(i for i, s in enumerate(statements) if s.startswith("UPDATE organizations SET seq"))
    return [" ".join(s.split()[:3]) for s in statements[start:]]


def _inserts(db: Database, *, event: bool = True) -> list[str]:
    """The ledger rows and their events: one statement on PostgreSQL, one per table on SQLite."""
    if db.write_engine.dialect.name == "postgresql":
        return ["WITH ledger AS"]
    return ["INSERT INTO movements", "INSERT INTO outbox"] if event else ["INSERT INTO movements"]


async def _tracked_product(api: Api) -> tuple[str, str, dict[str, str]]:
    locations = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    return product, variant, locations


async def test_a_one_change_put_locks_reads_upserts_and_appends_in_few_statements(
    api: Api, db: Database
) -> None:
    product, variant, loc = await _tracked_product(api)
    with captured(db) as statements:
        response = await api.move(product, variant, loc["SUPPLIER"], loc["STORE"], 2)
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "2"
    # lock + sequence, one read for validation, the balance upsert, the ledger and its event; no
    # low-stock lookup (nothing configured) and no read for the answer (the upsert returned it)
    assert _write_path(statements) == [
        "UPDATE organizations SET",
        "SELECT 'L' AS",
        "INSERT INTO balances",
        *_inserts(db),
    ]


async def test_the_low_stock_lookup_runs_once_an_alert_is_configured(api: Api, db: Database) -> None:
    product, variant, loc = await _tracked_product(api)
    configured = await api.put(
        f"/custom-low-stock/locations/{loc['STORE']}",
        json={"productUuid": product, "variantUuid": variant, "lowStockLevel": 1, "lowStockAlert": True},
    )
    assert configured.status_code == 204, configured.text
    with captured(db) as statements:
        response = await api.move(product, variant, loc["SUPPLIER"], loc["STORE"], 1)
    assert response.status_code == 200, response.text
    assert any(s.startswith("SELECT low_stock_levels") for s in _write_path(statements))


async def test_the_answer_reads_balances_the_request_did_not_change(api: Api, db: Database) -> None:
    product, variant, loc = await _tracked_product(api)
    await api.move(product, variant, loc["SUPPLIER"], loc["STORE"], 5)
    with captured(db) as statements:
        response = await api.move(
            product, variant, loc["SUPPLIER"], loc["BIN"], 1, returnBalanceForLocationUuid=loc["STORE"]
        )
    assert response.status_code == 200, response.text
    assert response.json()["variants"][0]["balance"] == "5"
    # one read, before the upsert, of the balance the answer shows but the request does not change
    assert _write_path(statements) == [
        "UPDATE organizations SET",
        "SELECT 'L' AS",
        "SELECT balances.location_uuid, balances.product_uuid,",
        "INSERT INTO balances",
        *_inserts(db, event=False),  # no STORE-type balance changed: no event
    ]


async def test_under_a_forbidding_policy_the_put_reads_the_store_balance_it_lowers_first(
    api: Api, db: Database
) -> None:
    product, variant, loc = await _tracked_product(api)
    await api.move(product, variant, loc["SUPPLIER"], loc["STORE"], 3)
    assert (
        await api.put("/organizations/self/settings", json={"allowNegativeStock": False})
    ).status_code == 200
    read_first = [
        "UPDATE organizations SET",
        "SELECT 'L' AS",
        "SELECT balances.location_uuid, balances.product_uuid,",
    ]
    with captured(db) as statements:
        response = await api.move(product, variant, loc["STORE"], loc["SOLD"], 2)
    assert response.status_code == 200, response.text
    # the policy came with the prelude: no statement of its own
    assert _write_path(statements) == [*read_first, "INSERT INTO balances", *_inserts(db)]
    with captured(db) as statements:
        response = await api.move(product, variant, loc["STORE"], loc["SOLD"], 2)
    assert response.status_code == 409, response.text
    assert _write_path(statements) == read_first  # refused before anything is written


async def test_bulk_and_counts_read_the_organization_state_in_one_statement(api: Api, db: Database) -> None:
    product, variant, loc = await _tracked_product(api)
    change = {"variantUuid": variant, "fromLocationUuid": loc["SUPPLIER"], "toLocationUuid": loc["STORE"]}
    bulk = {"productChanges": [{"productUuid": product, "variantChanges": [{**change, "change": 2}]}]}
    count = {"counts": [{"productUuid": product, "variantUuid": variant, "balance": 1}]}
    for path, body in (("/v2/inventory/bulk", bulk), ("/inventory/counts", count)):
        with captured(db) as statements:
            response = await api.post(f"/organizations/self{path}", json=body)
        assert response.status_code == 200, response.text
        reads = [s for s in statements if s.startswith("SELECT")]
        assert sum(s.startswith("SELECT 'L' AS") for s in reads) == 1, reads
        assert not any(
            s.startswith(("SELECT locations.", "SELECT products.", "SELECT low_stock")) for s in reads
        )
