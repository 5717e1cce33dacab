"""Images registered through the image service: lookup key → source, per organization."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.images import ImageUpload
from stockledger.store.sql import upsert
from stockledger.store.tables import product_images

_i = product_images.c


async def find(conn: AsyncConnection, org: str, key: str) -> tuple[str, str] | None:
    """(source digest, format) of the organization's image with that key, or None."""
    row = (
        await conn.execute(
            select(_i.source_digest, _i.image_format).where(_i.org_uuid == org, _i.lookup_key == key)
        )
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))


async def insert_if_absent(
    conn: AsyncConnection, org: str, key: str, upload: ImageUpload, at_ms: int
) -> bool:
    """Record the image under `key` unless the key is taken; whether it was recorded."""
    stmt = upsert(conn, product_images).values(
        org_uuid=org,
        lookup_key=key,
        image_format=upload.image_format,
        source_url=upload.source_url,
        source_digest=upload.source_digest,
        created_ms=at_ms,
        updated_ms=at_ms,
    )
    result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["org_uuid", "lookup_key"]))
    return bool(result.rowcount)


async def repoint(conn: AsyncConnection, org: str, key: str, upload: ImageUpload, at_ms: int) -> None:
    """The key now names this image (a client re-uploading a changed image under its old key)."""
    await conn.execute(
        update(product_images)
        .where(_i.org_uuid == org, _i.lookup_key == key)
        .values(
            image_format=upload.image_format,
            source_url=upload.source_url,
            source_digest=upload.source_digest,
            updated_ms=at_ms,
        )
    )


async def source_url(conn: AsyncConnection, key: str) -> str | None:
    """Where the image of `key` comes from (ix_product_images_key; keys are unique across
    organizations by construction), or None for an unknown key or an upload of bytes."""
    return await conn.scalar(
        select(_i.source_url).where(_i.lookup_key == key, _i.source_url.is_not(None)).limit(1)
    )
