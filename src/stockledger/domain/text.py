"""Text the service stores or looks up holds no NUL character (U+0000).

PostgreSQL's text types cannot hold one (SQLite can), so the rule keeps both databases answering alike:
input text with a NUL is refused with 400, except the names learned from a purchase document,
which are stored without it (the sale is recorded whatever its names hold).
"""

from __future__ import annotations

NUL = "\x00"
NUL_REFUSED = "must not contain the NUL character (U+0000)"


def has_nul(value: str) -> bool:
    return NUL in value


def without_nul(value: str) -> str:
    return value.replace(NUL, "")
