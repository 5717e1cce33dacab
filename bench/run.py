"""Runner: `python -m bench [--quick | --tiny | --growth] [--backends sqlite,postgres] [--only 1,2,...]`.

Each scenario seeds its own organization, starts `stockledger serve` as a subprocess, drives it with
wrk on 127.0.0.1 and stops it. Results go to bench/results/<time>.json and, unless --no-doc, to the
generated section of docs/performance.md.

`--growth` records how cost grows with the data, on demand (not part of `make bench`): scenario 5
(full fetch of a location) at 10k, 100k and 1M variants and scenario 6 (`since=<latest>` after 10
changed variants among 100k) at 100k, 1M and 10M ledger rows, each with the time its seeding took.
It prints the tables and writes the results JSON only (never docs/performance.md). It needs about
10 GB of disk per backend and takes minutes per backend (seeding 10M ledger rows dominates):
`make bench BENCH_ARGS="--growth"`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import product_list, scenarios
from bench.env import Backend, Org, wrk_available
from bench.report import render, write_doc

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ALL_SCENARIOS = "1,2,3,4,5,6,7,8,9,10,11,12"


def machine() -> dict[str, Any]:
    mem_kb = next(
        int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")
    )
    try:
        pg = (
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        pg = "unknown"
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "sqlite": sqlite3.sqlite_version,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": os.getloadavg()[0],
    }


def summarise(rows: list[dict[str, Any]]) -> None:
    """Median, min and max of every numeric metric over the runs of each row."""
    for r in rows:
        keys = sorted(
            {
                k
                for run in r["runs"]
                for k, v in run.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
        )
        r["median"], r["min"], r["max"] = {}, {}, {}
        for k in keys:
            values = [run[k] for run in r["runs"] if k in run]
            r["median"][k] = statistics.median(values)
            r["min"][k], r["max"][k] = min(values), max(values)
        if any("exact" in run for run in r["runs"]):
            r["median"]["exact"] = all(run["exact"] for run in r["runs"])


def run_backend(kind: str, scale: scenarios.Scale, only: set[str], log: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    backend = Backend.create(kind)
    try:

        def step(name: str, fn: Any, *args: Any, seed_s: float | None = None) -> None:
            if name not in only:
                return
            started = time.monotonic()
            out = fn(*args)
            summarise(out)
            if seed_s is not None:
                for r in out:
                    r["seed_s"] = round(seed_s, 1)
            rows.extend(out)
            log(f"  [{kind}] scenario {name} done in {time.monotonic() - started:.0f}s")

        def seeded(variants: int, **kwargs: Any) -> tuple[Org, float]:
            started = time.monotonic()
            org = backend.seed(variants, **kwargs)
            seconds = time.monotonic() - started
            log(f"  [{kind}] seeded {variants:,} variants {kwargs} in {seconds:.1f}s")
            return org, seconds

        org = backend.seed(scale.variants) if only & {"1", "2", "8", "9"} else None
        step("1", scenarios.movements, backend, org, scale)
        step("9", scenarios.v3_against_put, backend, org, scale)
        step("2", scenarios.the_limit, backend, org, scale)
        if "3" in only:
            step(
                "3",
                scenarios.hot_variant,
                backend,
                backend.seed(max(scale.runs, 1) + 1, per_product=1),
                scale,
            )
        if "4" in only:
            step("4", scenarios.bulk, backend, backend.seed(scale.bulk_changes), scale)
        if kind != "sqlite":
            step("8", scenarios.scaling_out, backend, org, scale)
        step("7", scenarios.webhooks, backend, scale)
        step("12", scenarios.idle, backend, scale)
        for size in scale.fetch_sizes:
            if "5" in only:
                fetched, seconds = seeded(size, balances=True)
                step("5", scenarios.full_fetch, backend, fetched, scale, seed_s=seconds)
        for ledger in scale.sync_ledgers:
            if "6" in only:
                big, seconds = seeded(scale.sync_variants, balances=True, ledger=ledger)
                step("6", scenarios.incremental_sync, backend, big, scale, ledger, seed_s=seconds)
        if "10" in only:
            paged, seconds = seeded(scale.paging_variants, balances=True)
            step("10", scenarios.v3_paging, backend, paged, scale, seed_s=seconds)
        if "11" in only:
            started = time.monotonic()
            library = product_list.seed_library(backend, scale.library_products, scale.library_variants)
            seconds = time.monotonic() - started
            log(f"  [{kind}] seeded a library of {scale.library_products:,} products in {seconds:.1f}s")
            step("11", scenarios.product_library_list, backend, library, scale, seed_s=seconds)
    finally:
        backend.drop()
    return rows


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds per scenario, small data")
    parser.add_argument("--tiny", action="store_true", help="smallest scale (the smoke test)")
    parser.add_argument(
        "--growth",
        action="store_true",
        help="scenarios 5 and 6 at growing sizes (up to 1M variants, 10M ledger rows); implies --no-doc",
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--only", default=None, help="comma-separated scenario numbers (default: all; with --growth: 5,6)"
    )
    parser.add_argument("--runs", type=int, default=0, help="override the number of runs")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--out", type=Path, default=None, help="results JSON path")
    return parser


def selection(args: argparse.Namespace) -> tuple[scenarios.Scale, set[str]]:
    """The scale and the scenarios the arguments ask for."""
    if sum((args.quick, args.tiny, args.growth)) > 1:
        raise ValueError("choose one of --quick, --tiny and --growth")
    scale = scenarios.SCALES[
        "tiny" if args.tiny else "quick" if args.quick else "growth" if args.growth else "full"
    ]
    if args.runs:
        scale = scenarios.Scale(**{**scale.__dict__, "runs": args.runs})
    only = set((args.only or (scenarios.GROWTH_SCENARIOS if args.growth else ALL_SCENARIOS)).split(","))
    return scale, only


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    try:
        scale, only = selection(args)
    except ValueError as e:
        cli.error(str(e))
    if not wrk_available():
        print("wrk is not installed (make bench installs it: apt-get install -y wrk)", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    for kind in args.backends.split(","):
        log(f"backend {kind} ({scale.name})")
        rows.extend(run_backend(kind.strip(), scale, only, log))
    result = {
        "machine": machine(),
        "scale": scale.name,
        "runs": scale.runs,
        "seconds": scale.seconds,
        "elapsed_s": round(time.monotonic() - started),
        "rows": rows,
    }
    out = args.out or RESULTS / f"{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-{scale.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    log(f"results: {out} ({result['elapsed_s']} s)")
    if args.growth:
        print(render(result))
    elif not args.no_doc:
        write_doc(ROOT / "docs" / "performance.md", result)
    return 0
