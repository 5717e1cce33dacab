"""The operator's first commands: `make serve` honours STOCKLEDGER_HOST/PORT, `serve` says where
everything is, `--version`, `migrate` says what it applied, `apikey list` is a table, `--scope`
refuses unknown scopes, and help screens show placeholders instead of Python types."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from stockledger import __version__
from stockledger.cli import app
from stockledger.store.migrate import head_revision
from tests.integration.cli_support import run as invoke
from tests.server import clean_env, free_port

ROOT = Path(__file__).resolve().parents[2]
ORG = "6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


def make_serve_command(*args: str, **env: str) -> str:
    """The command `make serve` would run (a dry run), with `env` in its environment."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve", *args],
        cwd=ROOT,
        env={**clean_env(), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(
        line.strip(" \\") for line in done.stdout.splitlines() if "stockledger serve" in line or "--" in line
    )


def test_make_serve_leaves_host_and_port_to_the_environment() -> None:
    command = make_serve_command(STOCKLEDGER_PORT="9000", STOCKLEDGER_HOST="0.0.0.0", HOST="my-laptop")
    assert "stockledger serve" in command
    assert (
        "--port" not in command and "--host" not in command
    )  # STOCKLEDGER_* decide; a shell's HOST does not


def test_make_serve_passes_host_and_port_given_on_its_command_line() -> None:
    command = make_serve_command("PORT=9001", "HOST=0.0.0.0")
    assert "--host 0.0.0.0" in command and "--port 9001" in command


def test_serve_listens_on_stockledger_port_and_says_where_everything_is(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(STOCKLEDGER_DATA_DIR=str(tmp_path / "data"), STOCKLEDGER_PORT=str(port))
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "stockledger", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    announced = [entry for entry in lines if entry["message"] == "stockledger is serving"]
    assert len(announced) == 1, lines  # said once, as a JSON log line (stderr is not a terminal)
    base = f"http://127.0.0.1:{port}"
    assert announced[0]["listen"] == f"127.0.0.1:{port}" and announced[0]["version"] == __version__
    assert announced[0]["swagger"] == f"{base}/swagger" and announced[0]["back_office"] == f"{base}/ui"
    assert announced[0]["api_v3"] == f"{base}/v3"


def test_startup_message_at_a_terminal_says_where_everything_is_and_how_to_get_in() -> None:
    from stockledger.cli import startup_message
    from stockledger.config import Settings

    message = startup_message(Settings(port=8123))
    assert f"stockledger {__version__}: listening on 127.0.0.1:8123" in message
    for where in (
        "http://127.0.0.1:8123/swagger",
        "http://127.0.0.1:8123/ui",
        "http://127.0.0.1:8123/v3",
        "stockledger apikey create --org",
        "stockledger token --org",
        "stockledger user create --org",
    ):
        assert where in message, where


def test_startup_message_uses_the_public_url_when_one_is_set(env: dict[str, str]) -> None:
    from stockledger.cli import startup_message
    from stockledger.config import Settings

    settings = Settings(public_url="https://stock.example.com", host="0.0.0.0", port=8080)
    message = startup_message(settings)
    assert "https://stock.example.com/swagger" in message and "listening on 0.0.0.0:8080" in message


def test_version_prints_the_package_version(env: dict[str, str]) -> None:
    code, out, _ = invoke(["--version"], env)
    assert code == 0 and out.strip() == f"stockledger {__version__}"


def test_migrate_says_what_it_applied_then_that_nothing_was_left(env: dict[str, str]) -> None:
    code, out, err = invoke(["migrate"], env)
    assert code == 0, err
    assert out.startswith("applied ") and f"now at schema {head_revision()}" in out
    assert "0001" in out  # names the migrations it ran, from the first
    code, out, _ = invoke(["migrate"], env)
    assert code == 0 and "already up to date" in out and "nothing applied" in out


def test_apikey_list_is_a_table_with_a_header_and_creation_dates(env: dict[str, str]) -> None:
    code, out, _ = invoke(["apikey", "list"], env)
    assert code == 0
    assert out.splitlines()[0].split() == [
        "KEY", "ID", "ORGANIZATION", "CREATED", "(UTC)", "STATE", "LABEL", "SCOPES"
    ]  # fmt: skip
    assert "no API keys yet" in out
    code, _, err = invoke(["apikey", "create", "--org", ORG, "--scope", "READ:PRODUCT"], env)
    assert code == 0, err
    key_id = next(line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("key id: "))
    code, out, _ = invoke(["apikey", "list"], env)
    header, row = out.splitlines()[:2]
    assert row.split()[:2] == [key_id, ORG]
    created = row.split()[2:4]  # YYYY-MM-DD HH:MM
    assert len(created[0]) == 10 and created[0][4] == "-" and len(created[1]) == 5
    assert row.split()[4:] == ["active", "-", "READ:PRODUCT"]
    assert header.index("ORGANIZATION") == row.index(ORG)  # aligned columns


def test_an_api_key_label_is_stored_and_listed(env: dict[str, str]) -> None:
    code, _, err = invoke(["apikey", "create", "--org", ORG, "--label", "  Webshop   (live) "], env)
    assert code == 0, err
    key_id = next(line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("key id: "))
    header, row = invoke(["apikey", "list"], env)[1].splitlines()[:2]
    assert row.startswith(key_id) and "Webshop (live)" in row
    assert row.index("Webshop (live)") == header.index("LABEL")
    for bad, why in (("   ", "empty"), ("x" * 101, "longer than 100"), ("a\x07b", "control character")):
        code, out, err = invoke(["apikey", "create", "--org", ORG, "--label", bad], env)
        assert code == 2 and out == "" and why in err, (bad, err)
    assert len(invoke(["apikey", "list"], env)[1].splitlines()) == 2  # the refused ones were not stored


@pytest.mark.parametrize("command", [["token", "--org", ORG], ["apikey", "create", "--org", ORG]])
def test_unknown_scopes_are_refused(env: dict[str, str], command: list[str]) -> None:
    code, out, err = invoke([*command, "--scope", "READ:PRODUCT READ:PRODCUT"], env)
    assert code == 2 and out == ""
    assert "unknown scope READ:PRODCUT" in err and "READ:PRODUCT" in err
    code, _, _ = invoke(["apikey", "list"], env)
    assert "no API keys yet" in invoke(["apikey", "list"], env)[1]  # nothing was stored


def test_known_scopes_beyond_the_checked_ones_are_accepted(env: dict[str, str]) -> None:
    code, out, err = invoke(
        ["token", "--org", ORG, "--scope", "READ:PRODUCT READ:USERINFO READ:FINANCE"], env
    )
    assert code == 0, err
    assert out.count(".") == 2  # a JWT


def _commands(group: Any, prefix: list[str]) -> list[list[str]]:
    found: list[list[str]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group of subcommands
            found.extend(_commands(command, [*prefix, name]))
        else:
            found.append([*prefix, name])
    return found


def test_help_screens_show_placeholders_not_python_types(env: dict[str, str]) -> None:
    root = typer.main.get_command(app)
    commands = _commands(root, [])
    assert ["serve"] in commands and ["apikey", "create"] in commands
    for command in [[], *commands]:
        code, out, err = invoke([*command, "--help"], env)
        assert code == 0, (command, err)
        for python_type in ("<str>", "<int>", "<bool>", "<path>", "<float>"):
            assert python_type not in out.lower(), (command, out)


def test_export_and_import_show_progress_bars_at_a_terminal(tmp_path: Path) -> None:
    """At a terminal (TTY_COMPATIBLE makes rich treat stderr as one) both show a progress bar that
    reaches the end: the export counts rows of its snapshot, the import bytes of its file."""
    source = clean_env(STOCKLEDGER_DATA_DIR=str(tmp_path / "source"), TTY_COMPATIBLE="1")
    target = clean_env(STOCKLEDGER_DATA_DIR=str(tmp_path / "target"), TTY_COMPATIBLE="1")
    stockledger = [sys.executable, "-m", "stockledger"]
    subprocess.run(
        [*stockledger, "apikey", "create", "--org", ORG], env=source, check=True, capture_output=True
    )
    export = tmp_path / "backup.jsonl"
    done = subprocess.run([*stockledger, "export", str(export)], env=source, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = len(export.read_text().splitlines()) - 1
    assert "exporting rows" in done.stderr and f"{rows}/{rows}" in done.stderr
    done = subprocess.run([*stockledger, "import", str(export)], env=target, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "importing" in done.stderr and "100 %" in done.stderr
