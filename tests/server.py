"""Running a real `stockledger serve` process for tests that need a socket, signals or crashes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout_s: float = 30) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start(
    database_url: str, data_dir: Path, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Server:
    """Start a server and wait until it answers /healthz."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STOCKLEDGER_")},
        "STOCKLEDGER_DATABASE_URL": database_url,
        "STOCKLEDGER_DATA_DIR": str(data_dir),
        "STOCKLEDGER_SECRET": TEST_SECRET,
        "STOCKLEDGER_LOG_LEVEL": "warning",
        "STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "1",
        **(extra_env or {}),
    }
    log_path = data_dir / f"server-{port}.log"
    command = [sys.executable, "-m", "stockledger", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"server did not start:\n{server.log()}")


@contextmanager
def running(database_url: str, data_dir: Path, **kwargs: object) -> Iterator[Server]:
    server = start(database_url, data_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        try:
            server.terminate(timeout_s=15)
        except subprocess.TimeoutExpired:
            server.kill()
