"""UUID rules of the contract: any letter case in, canonical lowercase 8-4-4-4-12 out."""

from __future__ import annotations

import re

import uuid_utils

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def canonical_uuid(value: object) -> str | None:
    """The lowercase canonical form of a UUID string, or None when it is not one."""
    if not isinstance(value, str) or not _UUID.match(value):
        return None
    return value.lower()


def new_location_uuid() -> str:
    """Location UUIDs are version 1, as Zettle's are (typed clients validate the version)."""
    return new_uuid1()


def new_uuid1() -> str:
    """A version-1 UUID (time, clock sequence, node). uuid_utils makes them in well under a microsecond
    (the standard library's libuuid call costs several): unique within the process, time never going
    backwards, and a clock sequence that starts at random in each process."""
    return str(uuid_utils.uuid1())
