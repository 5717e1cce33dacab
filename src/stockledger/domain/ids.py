"""UUID rules of the contract: any letter case in, canonical lowercase 8-4-4-4-12 out."""

from __future__ import annotations

import re
import uuid

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def canonical_uuid(value: object) -> str | None:
    """The lowercase canonical form of a UUID string, or None when it is not one."""
    if not isinstance(value, str) or not _UUID.match(value):
        return None
    return value.lower()


def new_location_uuid() -> str:
    """Location UUIDs are version 1, as Zettle's are (typed clients validate the version)."""
    return str(uuid.uuid1())
