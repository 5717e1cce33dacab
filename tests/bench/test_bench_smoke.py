"""Smoke test of the benchmark harness: every scenario runs at tiny scale on SQLite and reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("wrk") is None:
        if IN_CI:
            pytest.fail("wrk is not installed and CI=true: .ci/run must install it")
        pytest.skip("wrk is not installed (make bench installs it)")
    out = tmp_path_factory.mktemp("bench") / "tiny.json"
    subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--backends", "sqlite", "--no-doc", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=240,
    )
    return json.loads(out.read_text())


def _row(results: dict, scenario: str) -> dict:
    return next(r for r in results["rows"] if r["scenario"] == scenario)


def test_every_scenario_reports_a_result_without_errors(tiny_results: dict) -> None:
    for scenario in [
        "1 movements",
        "3 hot variant",
        "4 bulk",
        "5 full fetch",
        "6 incremental sync",
        "7 webhooks",
        "9 v3 movements",
        "10 v3 paging",
        "11 product list",
        "12 idle",
    ]:
        row = _row(tiny_results, scenario)
        assert row["runs"], scenario
        assert row["median"]["errors"] == 0, scenario


def test_load_scenarios_measure_throughput_and_latency(tiny_results: dict) -> None:
    for row in tiny_results["rows"]:
        if row["scenario"] in {"1 movements", "2 limit", "9 v3 movements"}:
            assert row["median"]["throughput"] > 0
            assert row["median"]["p99_ms"] >= row["median"]["p50_ms"] >= 0


def test_hot_variant_balance_equals_the_ledger(tiny_results: dict) -> None:
    row = _row(tiny_results, "3 hot variant")
    assert row["median"]["exact"] is True
    assert all(run["balance"] == run["ledger_rows"] > 0 for run in row["runs"])


def test_full_fetch_reports_peak_memory_growth(tiny_results: dict) -> None:
    assert "peak_growth_mb" in _row(tiny_results, "5 full fetch")["runs"][0]


def test_fetch_and_sync_report_the_server_cpu_of_each_request(tiny_results: dict) -> None:
    for scenario in ["5 full fetch", "6 incremental sync"]:
        assert all(run["cpu_ms"] >= 0 for run in _row(tiny_results, scenario)["runs"]), scenario


def test_product_list_reads_the_whole_library_with_server_and_client_times(tiny_results: dict) -> None:
    rows = [r for r in tiny_results["rows"] if r["scenario"] == "11 product list"]
    assert [r["params"]["api"].split(" ")[1] for r in rows] == [
        "…/products/v2",
        "…/products",
        "…/products/{uuid}",
    ]
    for row in rows:
        assert row["params"]["products"] == 200 and row["params"]["variants"] == 5
        assert all(run["cpu_ms"] >= 0 and run["errors"] == 0 for run in row["runs"])
    listed = rows[0]["runs"]
    assert len(listed) >= 3 and all(run["mb"] > 0 and run["client_parse_ms"] > 0 for run in listed)
    assert "peak_growth_mb" in listed[0] and rows[0]["seed_s"] >= 0


def test_webhook_scenario_delivers_every_committed_change_once_in_order(tiny_results: dict) -> None:
    row = _row(tiny_results, "7 webhooks")
    assert row["runs"]
    for run in row["runs"]:
        assert run["sent"] > 0
        assert run["delivered"] == run["committed"] == run["sent"]
        assert run["undelivered"] == run["duplicated"] == run["out_of_order"] == run["errors"] == 0
        assert run["lag_p99_ms"] >= run["lag_p50_ms"]


def test_idle_scenario_measures_the_cpu_of_the_server_and_its_dispatch_process(tiny_results: dict) -> None:
    row = _row(tiny_results, "12 idle")
    for run in row["runs"]:
        assert run["server_cpu_pct"] >= 0 and run["dispatch_cpu_pct"] >= 0
        assert run["total_cpu_pct"] >= run["server_cpu_pct"]
        assert run["server_wake_ups_per_s"] > 0


def test_report_renders_the_headline_ratio(tiny_results: dict) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.report import render

    text = render(tiny_results)
    assert "service ÷ limit" in text
    assert "Scenario 1 movements" in text


def test_fetch_and_sync_rows_report_their_seeding_time(tiny_results: dict) -> None:
    for scenario in ["5 full fetch", "6 incremental sync"]:
        assert _row(tiny_results, scenario)["seed_s"] >= 0, scenario
    sys.path.insert(0, str(ROOT))
    from bench.report import render

    assert "seeding s" in render(tiny_results)


def test_v3_paging_follows_every_link_and_compares_with_the_streamed_fetch(tiny_results: dict) -> None:
    rows = [r for r in tiny_results["rows"] if r["scenario"] == "10 v3 paging"]
    reads = {r["params"]["read"]: r for r in rows}
    assert len(reads) == 3 and "old API streamed" in reads
    for read, row in reads.items():
        assert row["median"]["errors"] == 0, read  # every variant exactly once
        assert all(run["cpu_ms"] >= 0 for run in row["runs"]), read
        # 2,500 variants in pages of 1,000: three requests; the old API streams them in one
        assert row["median"]["requests"] == (1 if read == "old API streamed" else 3), read
        assert len(row["runs"]) >= 3
    sys.path.insert(0, str(ROOT))
    from bench.report import render

    assert "v3 pages ÷ old API streamed" in render(tiny_results)


def test_growth_runs_fetch_and_sync_at_growing_sizes_only() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.run import parser, selection

    scale, only = selection(parser().parse_args(["--growth"]))
    assert only == {"5", "6"}
    assert scale.fetch_sizes == (10_000, 100_000, 1_000_000)
    assert scale.sync_variants == 100_000
    assert scale.sync_ledgers == (100_000, 1_000_000, 10_000_000)
    assert scale.runs >= 3
    full, everything = selection(parser().parse_args([]))
    assert full.name == "full" and everything == {str(n) for n in range(1, 13)}
    with pytest.raises(ValueError):
        selection(parser().parse_args(["--growth", "--tiny"]))


def test_sqlite_seeding_in_chunks_keeps_balances_equal_to_the_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT))
    import sqlite3

    from bench import env

    monkeypatch.setattr(env, "SQLITE_SEED_CHUNK", 7)  # many chunks, one ending mid-table
    backend = env.Backend.create("sqlite")
    try:
        org = backend.seed(5, per_product=2, balances=True, ledger=23)
        conn = sqlite3.connect(backend.sqlite_path)
        try:
            moves = conn.execute(
                "SELECT variant_uuid, count(*), max(seq) FROM movements WHERE org_uuid = ? GROUP BY 1",
                (org.uuid,),
            ).fetchall()
            store = dict(
                (v, (units, seq))
                for v, units, seq in conn.execute(
                    "SELECT variant_uuid, units, seq FROM balances WHERE org_uuid = ? AND location_uuid = ?",
                    (org.uuid, org.locations["STORE"]),
                )
            )
            seqs = [s for (s,) in conn.execute("SELECT seq FROM movements WHERE org_uuid = ?", (org.uuid,))]
        finally:
            conn.close()
    finally:
        backend.drop()
    assert sorted(seqs) == list(range(1, 24))
    assert len(moves) == 5
    for variant, count, last in moves:
        assert store[variant] == (count * env.UNIT, last)
