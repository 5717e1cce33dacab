"""Configuration mistakes end every command with one plain sentence and status 2; `config` shows settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stockledger.config import KNOWN_VARIABLES
from stockledger.config_check import FIELDS
from tests.integration.cli_support import run
from tests.server import clean_env, free_port

ORG = "6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
COMMANDS = {
    "serve": ["serve"],
    "migrate": ["migrate"],
    "config": ["config"],
    "token": ["token", "--org", ORG],
    "apikey": ["apikey", "list"],
}


def assert_one_sentence(exit_code: int, stderr: str, *fragments: str) -> None:
    assert exit_code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("stockledger: ") and lines[0].endswith("."), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_misspelt_variable_is_refused_with_a_suggestion(env: dict[str, str], command: str) -> None:
    code, _, err = run(COMMANDS[command], {**env, "STOCKLEDGER_PROT": "8080"})
    assert_one_sentence(code, err, "STOCKLEDGER_PROT", "did you mean STOCKLEDGER_PORT?")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://root:hunter2@db/stock", "must start with postgresql://"),
        ("not a url", "must start with postgresql://"),
        ("postgresql://app:hunter2@db:port/stock", "not a valid database URL"),
        ("postgresql://app:hunter2@db:5432", "names no database"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "migrate", "apikey"])
def test_malformed_database_url_is_refused_without_echoing_the_password(
    env: dict[str, str], command: str, url: str, fragment: str
) -> None:
    code, _, err = run(COMMANDS[command], {**env, "STOCKLEDGER_DATABASE_URL": url})
    assert_one_sentence(code, err, fragment)
    assert "hunter2" not in err


@pytest.mark.parametrize("command", ["serve", "migrate", "apikey"])
def test_unreachable_database_is_one_sentence(env: dict[str, str], command: str) -> None:
    url = f"postgresql://app:hunter2@127.0.0.1:{free_port()}/stock"
    code, _, err = run(COMMANDS[command], {**env, "STOCKLEDGER_DATABASE_URL": url})
    assert_one_sentence(code, err, "cannot use the database at postgresql://app:***@127.0.0.1")
    assert "hunter2" not in err


def test_missing_postgresql_database_is_one_sentence(env: dict[str, str], pg_database: str | None) -> None:
    if pg_database is None:
        pytest.skip("PostgreSQL is not reachable")
    url = pg_database.rsplit("/", 1)[0] + "/stockledger_no_such_database"
    code, _, err = run(["migrate"], {**env, "STOCKLEDGER_DATABASE_URL": url})
    assert_one_sentence(code, err, "does not exist")


@pytest.mark.parametrize("command", ["serve", "token"])
def test_secret_file_readable_by_others_is_refused(env: dict[str, str], command: str) -> None:
    data_dir = Path(env["STOCKLEDGER_DATA_DIR"])
    data_dir.mkdir()
    secret = data_dir / "secret"
    secret.write_text("s3cr3t-value\n")
    secret.chmod(0o644)
    code, _, err = run(COMMANDS[command], env)
    assert_one_sentence(code, err, "chmod 600")
    assert "s3cr3t-value" not in err


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("STOCKLEDGER_PORT", "eighty", "STOCKLEDGER_PORT must be a whole number"),
        ("STOCKLEDGER_PORT", "70000", "between 1 and 65535"),
        ("STOCKLEDGER_SHUTDOWN_TIMEOUT_S", "soon", "STOCKLEDGER_SHUTDOWN_TIMEOUT_S must be a number"),
        ("STOCKLEDGER_SHUTDOWN_TIMEOUT_S", "-1", "zero or more"),
        ("STOCKLEDGER_SEND_TIMEOUT_S", "never", "STOCKLEDGER_SEND_TIMEOUT_S must be a number"),
        ("STOCKLEDGER_MAX_CHANGES", "1k", "STOCKLEDGER_MAX_CHANGES must be a whole number"),
        ("STOCKLEDGER_RATE_LIMIT_PER_S", "fast", "STOCKLEDGER_RATE_LIMIT_PER_S must be a number"),
        ("STOCKLEDGER_WORKERS", "0", "STOCKLEDGER_WORKERS must be 1 or more"),
        ("STOCKLEDGER_LOG_LEVEL", "verbose", "STOCKLEDGER_LOG_LEVEL must be one of"),
        ("STOCKLEDGER_JWKS_URL", "id.example.test/jwks", "STOCKLEDGER_JWKS_URL must be an http(s) URL"),
        ("STOCKLEDGER_IMAGE_BASE_URL", "images.example", "STOCKLEDGER_IMAGE_BASE_URL must be an http(s) URL"),
        ("STOCKLEDGER_DISPATCHER", "maybe", "STOCKLEDGER_DISPATCHER must be one of 1/0, true/false"),
        ("STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE", "2", "STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE must be one of"),
        ("STOCKLEDGER_SHUTDOWN_TIMEOUT_S", "inf", "zero or more"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "migrate", "config"])
def test_bad_values_are_refused(
    env: dict[str, str], command: str, variable: str, value: str, fragment: str
) -> None:
    code, _, err = run(COMMANDS[command], {**env, variable: value})
    assert_one_sentence(code, err, fragment)


def test_bad_port_flag_is_refused(env: dict[str, str]) -> None:
    code, _, err = run(["serve", "--port", "0"], env)
    assert_one_sentence(code, err, "between 1 and 65535")


def test_config_prints_every_setting_with_secrets_redacted(env: dict[str, str]) -> None:
    settings = {
        **env,
        "STOCKLEDGER_DATABASE_URL": "postgresql://app:hunter2@db.internal:5432/stock",
        "STOCKLEDGER_SECRET": "top-secret-signing-key",
        "STOCKLEDGER_PORT": "9000",
        "STOCKLEDGER_DISPATCHER": "off",
        "STOCKLEDGER_JWKS_URL": "https://id.example.test/jwks.json",
    }
    code, out, err = run(["config"], settings)
    assert code == 0, err
    assert "hunter2" not in out and "top-secret-signing-key" not in out
    values = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert set(values) == KNOWN_VARIABLES
    assert values["STOCKLEDGER_DATABASE_URL"] == "postgresql://app:***@db.internal:5432/stock"
    assert values["STOCKLEDGER_SECRET"] == "<redacted>"
    assert values["STOCKLEDGER_PORT"] == "9000"
    assert values["STOCKLEDGER_DISPATCHER"] == "0"
    assert values["STOCKLEDGER_JWT_ORG_CLAIM"] == "org"
    assert values["STOCKLEDGER_JWKS_URL"] == "https://id.example.test/jwks.json"


def test_config_shows_defaults_and_does_not_create_the_secret(env: dict[str, str]) -> None:
    code, out, err = run(["config"], env)
    assert code == 0, err
    values = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert values["STOCKLEDGER_DATABASE_URL"].startswith("(embedded SQLite at ")
    assert values["STOCKLEDGER_SECRET"].startswith("(generated, kept in ")
    assert values["STOCKLEDGER_SHUTDOWN_TIMEOUT_S"] == "30.0"
    assert values["STOCKLEDGER_SEND_TIMEOUT_S"] == "60.0"
    assert values["STOCKLEDGER_WORKERS"] == "1"
    assert not (Path(env["STOCKLEDGER_DATA_DIR"]) / "secret").exists()


def test_every_known_variable_is_shown_by_config() -> None:
    assert set(FIELDS) == KNOWN_VARIABLES


@pytest.mark.parametrize("command", [["migrate"], ["serve"], ["apikey", "list"]])
def test_installed_command_prints_no_traceback_for_an_unreachable_database(
    tmp_path: Path, command: list[str]
) -> None:
    env = clean_env(
        STOCKLEDGER_DATA_DIR=str(tmp_path),
        STOCKLEDGER_DATABASE_URL=f"postgresql://app@127.0.0.1:{free_port()}/stock",
        STOCKLEDGER_SECRET="x" * 40,
    )
    done = subprocess.run(
        [sys.executable, "-m", "stockledger", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("stockledger: cannot use the database")


def test_configuration_doc_describes_every_setting() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    missing = [name for name in KNOWN_VARIABLES if f"| `{name}` |" not in doc]
    assert missing == []


def test_empty_variables_keep_their_defaults(env: dict[str, str]) -> None:
    code, out, err = run(
        ["config"], {**env, "STOCKLEDGER_PORT": "", "STOCKLEDGER_LOG_LEVEL": "", "STOCKLEDGER_DISPATCHER": ""}
    )
    assert code == 0, err
    values = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert (
        values["STOCKLEDGER_PORT"],
        values["STOCKLEDGER_LOG_LEVEL"],
        values["STOCKLEDGER_DISPATCHER"],
    ) == ("8000", "info", "1")


def test_values_are_read_whatever_their_case(env: dict[str, str]) -> None:
    code, out, err = run(
        ["config"], {**env, "STOCKLEDGER_LOG_LEVEL": "DEBUG", "STOCKLEDGER_DISPATCHER": "Off"}
    )
    assert code == 0, err
    values = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert (values["STOCKLEDGER_LOG_LEVEL"], values["STOCKLEDGER_DISPATCHER"]) == ("debug", "0")
