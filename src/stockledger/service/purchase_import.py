"""Replaying a file of purchase documents (JSON Lines), one transaction per purchase."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stockledger.domain.errors import ServiceError
from stockledger.exact_json import loads_exact
from stockledger.service.purchases import Channel, record
from stockledger.store.db import Database


@dataclass
class ImportSummary:
    """What a replay did; `invalid` holds (line number, reason) of every rejected document."""

    recorded: int = 0
    already_recorded: int = 0
    applied_lines: int = 0
    skipped_lines: Counter[str] = field(default_factory=Counter)
    invalid: list[tuple[int, str]] = field(default_factory=list)


def _reason(error: ServiceError) -> str:
    if not error.violations:
        return error.message
    return "; ".join(f"{v.property_name} {v.message}".strip() for v in error.violations)


async def replay(
    db: Database,
    org: str,
    lines: Sequence[str],
    *,
    max_lines: int,
    default_low_stock_units: int,
    on_line: Callable[[], None] = lambda: None,
) -> ImportSummary:
    """Record every document of `lines`; blank lines are ignored, invalid ones counted and reported.

    Purchases already recorded (by the point of sale, the receiver or an earlier import) are counted
    and left alone, so an interrupted import can simply be run again.
    """
    summary = ImportSummary()
    for number, line in enumerate(lines, start=1):
        try:
            if not line.strip():
                continue
            try:
                document = loads_exact(line)
            except json.JSONDecodeError as exc:
                summary.invalid.append((number, f"malformed JSON: {exc.msg}"))
                continue
            try:
                recorded = await record(
                    db,
                    org,
                    document,
                    received=line,
                    channel=Channel.IMPORT,
                    fallback_user=org,
                    max_lines=max_lines,
                    default_low_stock_units=default_low_stock_units,
                )
            except ServiceError as exc:
                summary.invalid.append((number, _reason(exc)))
                continue
            if recorded.replayed:
                summary.already_recorded += 1
                continue
            summary.recorded += 1
            summary.applied_lines += len(recorded.result["applied"])
            summary.skipped_lines.update(entry["reason"] for entry in recorded.result["skipped"])
        finally:
            on_line()
    return summary
