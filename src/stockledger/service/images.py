"""The image service's uploads (product-library-api §4): record each image, hand out its key.

All uploads of one request are recorded in one transaction. Keys are derived from the organization
and the source (domain/images.py), so the same image uploaded again, by any process and even
concurrently, gets the same key; a key a client sends back with a re-upload (SwagPayPal does when
an image changed) keeps naming that upload when the organization owns it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.images import ImageUpload, lookup_key
from stockledger.store import images
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import WriteClaim

# Another key is derived only when a re-upload under a key took over the one this source would get;
# a handful of derivations is plenty, and a random key ends the search if ever needed.
MAX_DERIVED_KEYS = 8


async def _register(conn: AsyncConnection, org: str, upload: ImageUpload, at_ms: int) -> str:
    wanted = (upload.source_digest, upload.image_format)
    if upload.lookup_key is not None:
        current = await images.find(conn, org, upload.lookup_key)
        if current is not None:
            if current != wanted:
                await images.repoint(conn, org, upload.lookup_key, upload, at_ms)
            return upload.lookup_key
    for attempt in range(MAX_DERIVED_KEYS):
        key = lookup_key(org, upload, attempt)
        if await images.insert_if_absent(conn, org, key, upload, at_ms):
            return key
        if await images.find(conn, org, key) == wanted:
            return key  # uploaded before (or by a concurrent request): the same key
    key = f"{uuid.uuid4().hex}.{upload.image_format.lower()}"
    await images.insert_if_absent(conn, org, key, upload, at_ms)
    return key


async def upload(
    db: Database, org: str, uploads: list[ImageUpload], *, claim: WriteClaim | None = None
) -> list[str]:
    """Record the uploads of one request; returns their lookup keys, in order."""
    at_ms = now_ms()

    async def work(conn: AsyncConnection) -> list[str]:
        return [await _register(conn, org, one, at_ms) for one in uploads]

    return await db.write(work, claim=claim)


async def source_url(db: Database, key: str) -> str | None:
    """The URL an image was uploaded from, or None (unknown key, or an upload of bytes)."""

    async def work(conn: AsyncConnection) -> str | None:
        return await images.source_url(conn, key)

    return await db.read(work)
