"""Scenario 12, idle: what a server with no traffic costs, itself and its database together.

`stockledger serve` (its in-process dispatcher on) and, on PostgreSQL, one `stockledger dispatch`
beside it are started, left to settle, then left alone for `seconds`: no request, no event. Measured
over that window: the CPU time (user + system, from /proc/<pid>/stat) of every process of the
server, of the dispatch process, and of every PostgreSQL backend connected to the benchmark's
database (found through pg_stat_activity by its name, the measuring connection excluded), as a
percentage of one core; and how often the server and dispatch processes were woken (voluntary
context switches per second), the steadier figure of the two at these small amounts.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench import webhooks
from bench.env import Backend, Server

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _wake_ups(pid: int) -> int:
    """Voluntary context switches of every thread of a process (each one a sleep that ended)."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _group_pids(group: int) -> list[int]:
    """The processes of one process group (a server and its workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            pids.append(int(stat.parent.name))
    return pids


async def _backend_pids(dsn: str) -> list[int]:
    """PostgreSQL backends connected to the database of `dsn`, except this query's own."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(r["pid"]) for r in rows]
    finally:
        await conn.close()


def _sample(server_group: int, dispatch_pid: int | None, backends: list[int]) -> dict[str, Any]:
    server = _group_pids(server_group)
    return {
        "server": {p: _stat_cpu_s(p) for p in server},
        "server_wake_ups": sum(_wake_ups(p) for p in server),
        "dispatch": _stat_cpu_s(dispatch_pid) if dispatch_pid else None,
        "dispatch_wake_ups": _wake_ups(dispatch_pid) if dispatch_pid else 0,
        "backends": {p: _stat_cpu_s(p) for p in backends},
    }


def _spent(before: dict[int, float | None], after: dict[int, float | None]) -> float:
    """CPU seconds spent between two samples by processes alive at both."""
    return sum((a or 0.0) - (before.get(p) or 0.0) for p, a in after.items() if a is not None)


def run(backend: Backend, *, seconds: float, settle_s: float, separate_dispatch: bool) -> dict[str, Any]:
    """One idle window: the server (and a dispatch process) started, settled, then left alone."""
    dispatch: webhooks.Dispatch | None = None
    with Server(backend) as server:
        try:
            if separate_dispatch:
                dispatch = webhooks.Dispatch(backend)
            time.sleep(settle_s)
            backends = asyncio.run(_backend_pids(backend.url)) if backend.kind == "postgres" else []
            dispatch_pid = dispatch.proc.pid if dispatch else None
            before = _sample(server.proc.pid, dispatch_pid, backends)
            started = time.monotonic()
            time.sleep(seconds)
            after = _sample(server.proc.pid, dispatch_pid, backends)
            wall_s = time.monotonic() - started
            alive = server.proc.poll() is None and (dispatch is None or dispatch.proc.poll() is None)
        finally:
            if dispatch is not None:
                dispatch.stop()
    server_s = _spent(before["server"], after["server"])
    dispatch_s = (after["dispatch"] or 0.0) - (before["dispatch"] or 0.0) if dispatch else 0.0
    database_s = _spent(before["backends"], after["backends"])
    wake_ups = after["server_wake_ups"] - before["server_wake_ups"]
    result = {
        "server_cpu_pct": 100 * server_s / wall_s,
        "database_cpu_pct": 100 * database_s / wall_s,
        "total_cpu_pct": 100 * (server_s + dispatch_s + database_s) / wall_s,
        "server_wake_ups_per_s": wake_ups / wall_s,
        "backends": len(backends),
        "errors": int(not alive),
    }
    if dispatch is not None:
        result["dispatch_cpu_pct"] = 100 * dispatch_s / wall_s
        result["dispatch_wake_ups_per_s"] = (
            after["dispatch_wake_ups"] - before["dispatch_wake_ups"]
        ) / wall_s
    return result
