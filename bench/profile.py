"""Where the server's CPU goes per write: py-spy on `stockledger serve` while wrk drives scenario 1's
PUT (or scenario 9's POST /v3/movements), then what the samples were doing (ACTIVITIES) and the top
functions by own samples and, among the service's own, by cumulative samples.

    python -m bench.profile --backend postgres --api put --concurrency 1 16 --seconds 10 --out DIR
    python -m bench.profile --summarise DIR/postgres-put-c1.txt          # the tables again
    python -m bench.profile --env PYTHONPATH=/other/tree/src …            # profile another tree

For each concurrency it writes DIR/<backend>-<api>-c<N>.txt (py-spy's collapsed stacks, loadable in
speedscope) and DIR/<backend>-<api>-c<N>.top.txt (the tables), and prints the tables. Samples are
taken with --native (C extensions' frames too); those of an idle event loop or SQLite thread are
left out, so the percentages are shares of the busy samples. py-spy counts a thread that waits for a
core as busy, so on a loaded machine system calls (a statement's socket `write`) weigh more than
their CPU: read the CPU itself from the bench. py-spy installs with the test extras.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.env import Backend, Server, run_wrk

# "function (path/to/file.py:123)", as py-spy names a frame
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")
OWN = "stockledger"  # the package whose functions the cumulative table lists
LOOP = "Runner.run (asyncio/runners.py)"
EVENT_LOOP = "[event loop: uvloop, C]"
# Where an idle event loop waits for its sockets: py-spy counts a runnable thread as active, and on
# a busy machine the loop is often runnable while still in this call, so these samples are dropped.
IDLE = ("epoll_pwait (", "epoll_wait (")
# A SQLite connection's thread waiting for its next statement (in SimpleQueue.get, native code).
SQLITE_WAITING = "_work (stockledger/store/sqlite_driver.py)"


def frame_name(frame: str) -> str:
    """`handle (site-packages/starlette/routing.py:42)` → `handle (starlette/routing.py)`; the
    service's own files keep their path in the package (`_run (stockledger/store/db.py)`)."""
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    parts = Path(match["file"]).parts
    keep = len(parts) - parts.index(OWN) if OWN in parts else 2
    return f"{match['func']} ({'/'.join(parts[-keep:])})"


def is_python(name: str) -> bool:
    return name.endswith((".py)", ">)")) or "(<frozen " in name


def busy_samples(collapsed: str) -> Iterator[tuple[list[str], int]]:
    """(frames below the event loop's runner, count) of every busy stack of py-spy's collapsed (raw)
    format recorded with --native."""
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        python = [f for f in frames if is_python(f)]
        if frames[-1].startswith(IDLE) or (python and python[-1] == SQLITE_WAITING):
            continue
        # What runs the event loop (typer, uvicorn, asyncio.run) is in every stack: start below it.
        if LOOP in frames:
            frames = frames[frames.index(LOOP) + 1 :]
        yield frames or [EVENT_LOOP], int(count_text)


def tops(collapsed: str, n: int = 20) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Busy samples, the top `n` functions by own samples (Python or C) and the service's own top `n`
    by cumulative samples (each counted once per stack however often it recurses; the libraries'
    are mostly the ASGI middleware chain every request passes through)."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    total = 0
    for frames, count in busy_samples(collapsed):
        total += count
        own[frames[-1]] += count
        for name in {f for f in frames if f"({OWN}/" in f}:
            cumulative[name] += count
    return total, own.most_common(n), cumulative.most_common(n)


# What a sample was doing, by the first of these frames found in its stack (most specific first).
ACTIVITIES = (
    ("webhook dispatcher passes", ("Dispatcher.run_forever (",)),
    ("the write transaction (PUT/v3 runner)", ("_PutRunner.__call__ (",)),
    ("access log line", ("Logger.info (logging/__init__.py)",)),
    ("route matching", ("_IncludedRouter.matches (", "_IncludedRouter._match (")),
    (
        "FastAPI dependencies, body parsing and validation",
        ("solve_dependencies (", "Request.body (", ".json ("),
    ),
    ("sending the response", ("Response.__call__ (",)),
    ("rest of the request: middleware, endpoint, queue", ("RequestResponseCycle.run_asgi (",)),
    ("HTTP parsing", ("HttpToolsProtocol.data_received (",)),
    ("SQLAlchemy, stack cut at its greenlet", ("(engine/base.py)", "(pool/base.py)", "(asyncio/engine.py)")),
)


def activities(collapsed: str) -> tuple[int, list[tuple[str, int]]]:
    """Busy samples per activity (ACTIVITIES; the rest: the event loop, asyncpg's and the SQLite
    driver's own work, the garbage collector)."""
    found: Counter[str] = Counter()
    total = 0
    for frames, count in busy_samples(collapsed):
        total += count
        label = next(
            (name for name, marks in ACTIVITIES if any(m in f for f in frames for m in marks)), "other"
        )
        found[label] += count
    return total, [(name, found[name]) for name, _ in (*ACTIVITIES, ("other", ()))]


def render(title: str, collapsed: str, n: int = 20) -> str:
    total, own, cumulative = tops(collapsed, n)
    lines = [f"{title}: {total} busy samples", "", "share % activity"]
    lines += [f"{100 * c / total:5.1f}   {name}" for name, c in activities(collapsed)[1]]
    lines += ["", "own %   function"]
    lines += [f"{100 * c / total:5.1f}   {name}" for name, c in own]
    lines += ["", f"cumul % function ({OWN}'s)"]
    lines += [f"{100 * c / total:5.1f}   {name}" for name, c in cumulative]
    return "\n".join(lines) + "\n"


def _py_spy() -> str:
    """py-spy on PATH, else beside this interpreter (the virtual environment's bin/)."""
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def profile(
    backend: Backend, api: str, concurrencies: list[int], seconds: float, out: Path, env: dict[str, str]
) -> None:
    org = backend.seed(10_000)
    with Server(backend, env=env) as server:
        run_wrk(server, org, connections=4, seconds=2, api=api)  # warm-up
        for c in concurrencies:
            raw = out / f"{backend.kind}-{api}-c{c}.txt"
            spy = subprocess.Popen(
                [
                    *(_py_spy(), "record", "--pid", str(server.proc.pid), "--format", "raw"),
                    *("--output", str(raw), "--native", "--rate", "250", "--duration", str(int(seconds) + 2)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)  # py-spy attached
            result = run_wrk(server, org, connections=c, seconds=seconds, api=api)
            try:
                spy.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            title = (
                f"{backend.kind} {api} c={c}: {result['throughput']:.0f}/s, p50 {result['p50_ms']:.2f} ms, "
                f"{result['cpu_ms_per_request']:.2f} ms CPU/request"
            )
            text = render(title, raw.read_text())
            (out / f"{backend.kind}-{api}-c{c}.top.txt").write_text(text)
            print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--backend", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--api", default="put", choices=("put", "v3"))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--env", nargs="*", default=[], help="NAME=VALUE settings of the server")
    parser.add_argument("--out", type=Path, default=Path("bench/results/profile"))
    parser.add_argument("--summarise", type=Path, nargs="+", help="only print the tables of these raw files")
    args = parser.parse_args(argv)
    if args.summarise:
        for raw in args.summarise:
            print(render(str(raw), raw.read_text()))
        return 0
    if not Path(_py_spy()).exists():
        print("py-spy is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    backend = Backend.create(args.backend)
    try:
        profile(
            backend,
            args.api,
            args.concurrency,
            args.seconds,
            args.out,
            dict(e.split("=", 1) for e in args.env),
        )
    finally:
        backend.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
