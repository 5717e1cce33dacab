"""The X-iZettle-Signature of spec §7: hex HMAC-SHA256 of `timestamp + "." + payload`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-iZettle-Signature"


def signature(signing_key: str, timestamp: str, payload: str) -> str:
    """The hex signature over the exact timestamp and payload texts (UTF-8), as receivers recompute it."""
    message = f"{timestamp}.{payload}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def verify(signing_key: str, timestamp: str, payload: str, received: str) -> bool:
    """Constant-time comparison of a received signature (any hex case) with the expected one.

    A header with a non-ASCII character cannot match (and compare_digest refuses non-ASCII text)."""
    if not received.isascii():
        return False
    return hmac.compare_digest(signature(signing_key, timestamp, payload), received.strip().lower())
