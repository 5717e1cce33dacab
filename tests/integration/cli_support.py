"""Running `stockledger` commands in-process with a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockledger.cli import app


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A clean STOCKLEDGER_* environment with the embedded database in a temporary data dir."""
    for name in list(os.environ):
        if name.startswith("STOCKLEDGER_"):
            monkeypatch.delenv(name)
    return {"STOCKLEDGER_DATA_DIR": str(tmp_path / "data")}


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `stockledger *args` run with exactly `env`."""
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.stdout, result.stderr
