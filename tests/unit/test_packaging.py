"""Packaging basics: the licence is declared in the current pyproject form and matches LICENSE;
the changelog exists and speaks of the current version."""

from __future__ import annotations

import tomllib
from pathlib import Path

from stockledger import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"  # a string (PEP 639), not the deprecated {text = …} table
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_the_changelog_names_the_current_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog")
    assert f"## {__version__}" in changelog
