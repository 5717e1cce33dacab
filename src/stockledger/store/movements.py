"""The ledger: immutable movement rows, one per moved quantity, never updated or deleted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.movements import Change
from stockledger.store.tables import movements

_INSERT = movements.insert()


@dataclass(frozen=True)
class RecordedMovement:
    seq: int
    uuid: str
    change: Change


def plan(changes: list[Change], first_seq: int) -> list[RecordedMovement]:
    """The ledger rows of `changes`, with consecutive sequence numbers from `first_seq`."""
    return [RecordedMovement(first_seq + i, str(uuid.uuid4()), c) for i, c in enumerate(changes)]


async def insert(
    conn: AsyncConnection,
    org: str,
    recorded: list[RecordedMovement],
    *,
    source: str,
    actor: str | None,
    external_uuid: str | None,
    at_ms: int,
) -> None:
    if recorded:
        await conn.execute(
            _INSERT,
            [
                {
                    "org_uuid": org,
                    "seq": m.seq,
                    "uuid": m.uuid,
                    "product_uuid": m.change.product_uuid,
                    "variant_uuid": m.change.variant_uuid,
                    "from_location_uuid": m.change.from_location,
                    "to_location_uuid": m.change.to_location,
                    "units": m.change.units,
                    "external_uuid": external_uuid,
                    "source": source,
                    "actor": actor,
                    "created_ms": at_ms,
                }
                for m in recorded
            ],
        )


async def record(
    conn: AsyncConnection,
    org: str,
    changes: list[Change],
    first_seq: int,
    *,
    source: str,
    actor: str | None,
    external_uuid: str | None,
    at_ms: int,
) -> list[RecordedMovement]:
    """Append the changes to the ledger with consecutive sequence numbers from `first_seq`."""
    recorded = plan(changes, first_seq)
    await insert(conn, org, recorded, source=source, actor=actor, external_uuid=external_uuid, at_ms=at_ms)
    return recorded
