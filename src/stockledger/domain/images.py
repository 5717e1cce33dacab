"""Image uploads of the image service (product-library-api §4): validation, lookup keys, URLs. Pure.

No client ever downloads an image through the service: they keep the lookup key (for a product's
`imageLookupKeys`) and the first URL (for `presentation.imageUrl`). So an upload is recorded, not
fetched, and its key is derived from the organization and the source: the same image uploaded
again gets the same key, in any process, without coordination.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from stockledger.domain.errors import Violation
from stockledger.domain.text import NUL

# The formats Zettle's image service takes; the key ends with the format's extension.
FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF")
MAX_URL_CHARS = 2048  # what browsers and CDNs handle; an image URL is never longer
MAX_KEY_CHARS = 191  # clients index keys in a column of this width
MAX_BULK_UPLOADS = 1000  # a request of SwagPayPal's image pass carries one catalogue's images
SIZES = ("o", "L")  # the original, then 560 × 560 (Zettle's `imageUrls`, in that order)
_KEY_NAMESPACE = b"stockledger-image-key\x00"


@dataclass(frozen=True)
class ImageUpload:
    """A valid upload: its format and its source, a URL or bytes (known only by their digest)."""

    image_format: str
    source_url: str | None
    source_digest: str  # sha256 hex of the URL's text or of the bytes
    lookup_key: str | None = None  # a key the client asks to keep (bulk re-uploads)


def _format(body: dict[str, Any], path: str, violations: list[Violation]) -> str | None:
    value = body.get("imageFormat")
    if value is None:
        violations.append(Violation(f"{path}imageFormat", "must not be null"))
        return None
    if not isinstance(value, str) or value.upper() not in FORMATS:
        violations.append(Violation(f"{path}imageFormat", f"must be one of {', '.join(FORMATS)}"))
        return None
    return value.upper()


def _url(value: Any, name: str, violations: list[Violation]) -> str | None:
    if not isinstance(value, str):
        violations.append(Violation(name, "must be a string"))
        return None
    # No control characters (a line break in a URL is never an image, and would end a header).
    plain = len(value) <= MAX_URL_CHARS and not any(ord(c) < 32 or ord(c) == 127 for c in value.strip())
    parts = urlsplit(value.strip()) if plain else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        violations.append(
            Violation(name, f"must be an http or https URL of at most {MAX_URL_CHARS} characters")
        )
        return None
    return value.strip()


def _data(value: Any, name: str, violations: list[Violation]) -> bytes | None:
    if not isinstance(value, str):
        violations.append(Violation(name, "must be a base64 string"))
        return None
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        violations.append(Violation(name, "must be the image's bytes in base64"))
        return None
    return data


def parse_upload(body: Any, path: str = "") -> tuple[ImageUpload | None, list[Violation]]:
    """One upload `{"imageFormat", "imageUrl" | "imageData", "imageLookupKey"?}`; `path` prefixes
    the violations' property names. Both sources given: the URL is the source."""
    if not isinstance(body, dict):
        return None, [Violation(path.rstrip("."), "must be a JSON object")]
    violations: list[Violation] = []
    image_format = _format(body, path, violations)
    url = data = None
    if body.get("imageUrl") is not None:
        url = _url(body["imageUrl"], f"{path}imageUrl", violations)
    elif body.get("imageData") is not None:
        data = _data(body["imageData"], f"{path}imageData", violations)
    else:
        violations.append(Violation(f"{path}imageUrl", "one of imageUrl and imageData is required"))
    key = body.get("imageLookupKey")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_CHARS or NUL in key):
        violations.append(
            Violation(f"{path}imageLookupKey", f"must be a key of at most {MAX_KEY_CHARS} characters")
        )
    if violations or image_format is None:
        return None, violations
    source = url.encode() if url is not None else data
    assert source is not None
    digest = hashlib.sha256(source).hexdigest()
    return ImageUpload(image_format, url, digest, key), []


def lookup_key(org: str, upload: ImageUpload, attempt: int = 0) -> str:
    """The key of this organization's image from this source: two 22-character URL-safe base64 ids
    joined by `-`, then the format's extension (Zettle's shape, e.g. `0SFq…NQ-10Tu…sw.jpeg`).
    `attempt` > 0 derives another key for the same source (its first one was taken over by a
    re-upload of another image under that key)."""
    seed = _KEY_NAMESPACE + f"{org}\x00{upload.image_format}\x00{upload.source_digest}\x00{attempt}".encode()
    digest = hashlib.sha256(seed).digest()
    first, second = (
        base64.urlsafe_b64encode(half).decode().rstrip("=") for half in (digest[:16], digest[16:])
    )
    return f"{first}-{second}.{upload.image_format.lower()}"


def image_urls(base_url: str, key: str) -> list[str]:
    """`imageUrls` of a key: the original's URL, then the 560 × 560 one."""
    base = base_url.rstrip("/")
    return [f"{base}/productimage/{size}/{key}" for size in SIZES]
