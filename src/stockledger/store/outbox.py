"""The transactional outbox: events appended in the same transaction as the change that causes them.

Whoever appends events tells the unit of work (`uow.events_appended()`), so the dispatchers of this
process are woken once the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import uuid_utils

from stockledger.domain.event_payloads import envelope_timestamp
from stockledger.domain.ids import new_uuid1
from stockledger.store.tables import outbox
from stockledger.store.unit_of_work import UnitOfWork

# messageId is a version-5 UUID derived from the messageUuid: stable across retries by construction.
MESSAGE_ID_NAMESPACE = uuid_utils.UUID("6b1c1f9e-3c1a-5d4e-9a49-6f3d2a1b7c55")


_INSERT = outbox.insert()


def message_id_for(message_uuid: str) -> str:
    return str(uuid_utils.uuid5(MESSAGE_ID_NAMESPACE, message_uuid))


@dataclass(frozen=True)
class Event:
    """An event ready to be written: its payload already serialised (the exact text that is signed)."""

    event_name: str
    message_uuid: str
    message_id: str
    payload: str


def event(event_name: str, payload: dict[str, Any]) -> Event:
    """A new event, to be written by `append` or `store.write_path.append_entries`."""
    message_uuid = new_uuid1()
    return Event(event_name, message_uuid, message_id_for(message_uuid), orjson.dumps(payload).decode())


def row(org: str, e: Event, at_ms: int) -> dict[str, Any]:
    return {
        "org_uuid": org,
        "event_name": e.event_name,
        "message_uuid": e.message_uuid,
        "message_id": e.message_id,
        "payload": e.payload,
        "timestamp": envelope_timestamp(at_ms),
        "created_ms": at_ms,
    }


async def append(uow: UnitOfWork, org: str, event_name: str, payload: dict[str, Any], at_ms: int) -> str:
    """Record one event in the unit of work's transaction; returns its messageUuid. The payload is
    serialised once, here, and that exact string is what every delivery carries and signs."""
    e = event(event_name, payload)
    await uow.conn.execute(_INSERT, row(org, e, at_ms))
    uow.events_appended()
    return e.message_uuid
