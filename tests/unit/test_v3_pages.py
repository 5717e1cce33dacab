"""The v3 page size rule and the public base URL setting (v3 contract §2.4)."""

from __future__ import annotations

import pytest

from stockledger.api.v3_pages import DEFAULT_LIMIT, MAX_LIMIT, page_limit
from stockledger.config import ConfigError, Settings
from stockledger.domain.errors import ServiceError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, DEFAULT_LIMIT),
        ("", DEFAULT_LIMIT),
        ("1", 1),
        ("250", 250),
        ("1000", 1000),
        ("1001", MAX_LIMIT),
        ("9" * 40, MAX_LIMIT),
    ],
)
def test_page_limit_defaults_and_clamps(raw: str | None, expected: int) -> None:
    assert page_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "ten", "²", " 5"])
def test_page_limit_refuses_what_is_not_a_positive_integer(raw: str) -> None:
    with pytest.raises(ServiceError) as caught:
        page_limit(raw)
    assert caught.value.status == 400
    assert [v.property_name for v in caught.value.violations] == ["limit"]


def test_public_url_is_kept_without_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCKLEDGER_PUBLIC_URL", "https://stock.example.com/shop/")
    assert Settings.from_env().public_url == "https://stock.example.com/shop"


@pytest.mark.parametrize(
    "bad", ["stock.example.com", "ftp://x.example", "https://x.example/?a=1", "https://"]
)
def test_public_url_must_be_an_absolute_http_url(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("STOCKLEDGER_PUBLIC_URL", bad)
    with pytest.raises(ConfigError, match="STOCKLEDGER_PUBLIC_URL"):
        Settings.from_env()
