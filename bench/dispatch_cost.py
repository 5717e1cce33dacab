"""The dispatcher's own cost: `python -m bench.dispatch_cost [--backend postgres] [--messages 4000]`.

Starts `stockledger dispatch` and holds it still (SIGSTOP) while the outbox fills with balance
changes through the server (its own dispatcher off), stops the server, then lets the dispatcher
deliver the backlog to a local receiver: CPU of the dispatcher process per delivered message, its
delivery rate, and its CPU while idle afterwards. With
`--py-spy FILE` the dispatcher runs under `py-spy record` (a flame graph in FILE).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import webhooks
from bench.env import Backend, Server

STARTUP_S = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch_cost", description=__doc__)
    parser.add_argument("--backend", default="postgres")
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--idle-s", type=float, default=10.0)
    parser.add_argument("--py-spy", default="")
    args = parser.parse_args()
    backend = Backend.create(args.backend)
    try:
        print(json.dumps(measure(backend, args.messages, args.subscriptions, args.idle_s, args.py_spy)))
    finally:
        backend.drop()


def measure(backend: Backend, messages: int, subs: int, idle_s: float, py_spy: str) -> dict[str, Any]:
    orgs = [backend.seed(1_000) for _ in range(subs)]
    receiver = webhooks.Receiver(backend.workdir)
    spy: subprocess.Popen[bytes] | None = None
    try:
        env = {**webhooks.ALLOW_PRIVATE, "STOCKLEDGER_DISPATCHER": "0"}
        with Server(backend, env=env) as server:
            for org in orgs:
                webhooks._subscribe(server, org, receiver.url)
            # started (imports, migration check) before the load, then held still while it runs
            dispatch = webhooks.Dispatch(backend)
            time.sleep(STARTUP_S)
            dispatch.proc.send_signal(signal.SIGSTOP)
            load = asyncio.run(webhooks._paced_load(server, orgs, 2000, messages / 2000, 16))
        committed = webhooks._committed(backend, orgs)
        try:
            cpu_before = dispatch.cpu_seconds()
            started = time.monotonic()
            dispatch.proc.send_signal(signal.SIGCONT)
            if py_spy:
                fmt = ["--format", "raw"] if py_spy.endswith(".txt") else []
                spy_bin = str(Path(sys.executable).with_name("py-spy"))
                spy = subprocess.Popen(
                    [spy_bin, "record", "--pid", str(dispatch.proc.pid), "-o", py_spy, "-r", "200", *fmt],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            while webhooks._outstanding(backend):
                if time.monotonic() - started > 300:
                    raise RuntimeError("the backlog was not delivered within 300 s")
                time.sleep(0.05)
            drain_s = time.monotonic() - started
            busy_cpu = dispatch.cpu_seconds() - cpu_before
            time.sleep(idle_s)
            idle_cpu = dispatch.cpu_seconds() - cpu_before - busy_cpu
        finally:
            dispatch.stop()
            if spy is not None:
                spy.wait(timeout=60)
    finally:
        records = receiver.stop()
    result = webhooks._measure(records, committed, load, 1.0)
    return {
        "messages": len(committed),
        "delivered": result["delivered"],
        "duplicated": result["duplicated"],
        "out_of_order": result["out_of_order"],
        "drain_s": round(drain_s, 2),
        "delivered_per_s": round(result["delivered"] / drain_s, 1),
        "cpu_ms_per_message": round(1000 * busy_cpu / max(1, result["delivered"]), 3),
        "idle_cpu_ms_per_s": round(1000 * idle_cpu / idle_s, 2),
    }


if __name__ == "__main__":
    main()
