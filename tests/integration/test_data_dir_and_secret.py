"""One data directory whatever folder a command runs in, and no silent second secret: a database
remembers which secret its API keys were signed with (issue: the secret followed the working folder)."""

from __future__ import annotations

import os
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from stockledger.cli import app
from stockledger.config import Settings, default_data_dir

ORG = "6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment whose per-user data folder is under tmp_path; returns that folder."""
    for name in list(os.environ):
        if name.startswith("STOCKLEDGER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "stockledger"


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env=env or {})
    return result.exit_code, result.stdout, result.stderr


def test_the_default_data_directory_is_the_per_user_data_folder(home: Path) -> None:
    assert default_data_dir() == home
    assert Settings.from_env().data_dir == home


def test_tokens_made_from_two_folders_share_one_secret(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = []
    for folder in ("shop", "elsewhere"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        code, out, err = invoke(["token", "--org", ORG])
        assert code == 0, err
        tokens.append(out.strip())
    secret = (home / "secret").read_text().strip()
    for token in tokens:  # both verify with the one secret (no second one was made)
        jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
    assert not (tmp_path / "shop" / ".stockledger").exists()
    assert not (tmp_path / "elsewhere" / ".stockledger").exists()


def test_an_older_releases_data_in_the_current_folder_is_not_silently_left_behind(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "shop" / ".stockledger"
    old.mkdir(parents=True)
    (old / "secret").write_text("the-old-secret-" + "o" * 40 + "\n")
    (old / "secret").chmod(0o600)
    monkeypatch.chdir(tmp_path / "shop")
    code, out, err = invoke(["token", "--org", ORG])
    assert code == 2 and out == ""
    assert str(old) in err and str(home) in err and "STOCKLEDGER_DATA_DIR" in err
    assert not (home / "secret").exists()  # no second secret was made
    code, _, err = invoke(["token", "--org", ORG], {"STOCKLEDGER_DATA_DIR": str(old)})
    assert code == 0, err


def test_a_command_with_another_secret_than_the_databases_keys_is_refused(home: Path, tmp_path: Path) -> None:
    database = {"STOCKLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    first = {**database, "STOCKLEDGER_SECRET": "first-secret-" + "a" * 40}
    second = {**database, "STOCKLEDGER_SECRET": "second-secret-" + "b" * 40}
    code, _, err = invoke(["apikey", "create", "--org", ORG], first)
    assert code == 0, err
    code, out, err = invoke(["apikey", "create", "--org", ORG], second)
    assert code == 2 and out == ""
    assert "signed with another secret" in err and "STOCKLEDGER_SECRET" in err and "adopt-secret" in err
    listed = invoke(["apikey", "list"], first)[1]
    assert len([line for line in listed.splitlines()[1:] if ORG in line]) == 1  # nothing stored
    code, out, err = invoke(["adopt-secret"], second)
    assert code == 0, err
    assert invoke(["apikey", "create", "--org", ORG], second)[0] == 0
    assert invoke(["apikey", "create", "--org", ORG], first)[0] == 2


def test_serve_refuses_another_secret_than_the_databases(home: Path, tmp_path: Path) -> None:
    database = {"STOCKLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    assert (
        invoke(["apikey", "create", "--org", ORG], {**database, "STOCKLEDGER_SECRET": "s1-" + "a" * 40})[0]
        == 0
    )
    code, _, err = invoke(["serve", "--port", "1"], {**database, "STOCKLEDGER_SECRET": "s2-" + "b" * 40})
    assert code == 2 and "signed with another secret" in err


def test_export_names_the_secret_and_import_elsewhere_keeps_the_link(home: Path, tmp_path: Path) -> None:
    source = {"STOCKLEDGER_DATA_DIR": str(tmp_path / "source")}
    assert invoke(["apikey", "create", "--org", ORG], source)[0] == 0
    export = tmp_path / "backup.jsonl"
    code, _, err = invoke(["export", str(export)], source)
    assert code == 0, err
    assert "keep the secret" in err and str(tmp_path / "source" / "secret") in err
    # The new installation serves first (recording its own new secret), then imports.
    target = {"STOCKLEDGER_DATA_DIR": str(tmp_path / "target")}
    assert invoke(["apikey", "list"], target)[0] == 0
    assert invoke(["adopt-secret"], target)[0] == 0
    code, _, err = invoke(["import", str(export)], target)
    assert code == 0, err
    assert "signed with another secret" in err  # told at once, not at the first refused key
    assert invoke(["apikey", "create", "--org", ORG], target)[0] == 2
    original = (tmp_path / "source" / "secret").read_text().strip()
    code, _, err = invoke(["apikey", "create", "--org", ORG], {**target, "STOCKLEDGER_SECRET": original})
    assert code == 0, err
