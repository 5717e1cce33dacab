"""Peak memory of a streamed location fetch: it must not grow with the number of variants.

Inserts `n` balance rows of one tracked product directly via SQL, then fetches the default STORE
through the ASGI app with a `send` that hashes and discards the body, under tracemalloc.

    python -m bench.stream_memory [--variants 200000] [--database-url sqlite:///bench.db]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockledger.store.db import Database
from stockledger.store.tables import balances, products

INSERT_BATCH_ROWS = 10_000


@dataclass(frozen=True)
class Measurement:
    variants: int
    peak_bytes: int
    body_bytes: int
    body_sha256: str
    seconds: float


async def insert_balances(db: Database, org: str, store_uuid: str, n: int) -> str:
    """One tracked product with `n` variants in `store_uuid`; returns the product UUID."""
    product = str(uuid.uuid4())

    async def add_product(conn: Any) -> None:
        await conn.execute(
            products.insert().values(org_uuid=org, product_uuid=product, tracked=True, updated_ms=0)
        )

    await db.write(add_product)
    for start in range(0, n, INSERT_BATCH_ROWS):
        rows = [
            {
                "org_uuid": org,
                "location_uuid": store_uuid,
                "product_uuid": product,
                "variant_uuid": str(uuid.UUID(int=i)),
                "units": i * 1000,
                "seq": 0,
                "updated_ms": 0,
            }
            for i in range(start, min(n, start + INSERT_BATCH_ROWS))
        ]

        async def add_rows(conn: Any, rows: list[dict[str, Any]] = rows) -> None:
            await conn.execute(balances.insert(), rows)

        await db.write(add_rows)
    return product


async def fetch_streamed(app: Any, token: str, path: str = "/inventory") -> Measurement:
    """GET `path` through the ASGI app, discarding the body as it arrives, under tracemalloc."""
    digest = hashlib.sha256()
    body_bytes = 0
    status = 0

    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until the response ends
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal body_bytes, status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            body_bytes += len(chunk)
            digest.update(chunk)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    started = time.perf_counter()
    tracemalloc.start()
    try:
        await app(scope, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200, status
    return Measurement(0, peak, body_bytes, digest.hexdigest(), time.perf_counter() - started)


async def _main(variants: int, database_url: str | None) -> None:
    from stockledger.app import create_app
    from stockledger.config import Settings
    from stockledger.store.migrate import upgrade
    from stockledger.tokens import mint_access_token

    with tempfile.TemporaryDirectory() as tmp:
        secret = "bench-secret-" + "x" * 40
        raw_url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(data_dir=Path(tmp), database_url=raw_url, secret=secret)
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url)
        app = create_app(settings, db=db)
        org = str(uuid.uuid4())
        token = mint_access_token(secret, org=org, sub=str(uuid.uuid4()), scopes="READ:PRODUCT")
        await fetch_streamed(app, token)  # creates the organization
        async with db.read_engine.connect() as conn:
            from sqlalchemy import select

            from stockledger.store.tables import locations

            store = (
                await conn.execute(
                    select(locations.c.uuid).where(
                        locations.c.org_uuid == org, locations.c.is_default.is_(True)
                    )
                )
            ).scalar_one()
        await insert_balances(db, org, store, variants)
        result = await fetch_streamed(app, token)
        print(
            f"variants={variants} body={result.body_bytes / 1e6:.1f} MB "
            f"peak={result.peak_bytes / 1e6:.2f} MB time={result.seconds:.2f} s"
        )
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(_main(args.variants, args.database_url))


if __name__ == "__main__":
    main()
