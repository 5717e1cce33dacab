"""Behind a reverse proxy: X-Forwarded-Proto is believed only from STOCKLEDGER_FORWARDED_ALLOW_IPS,
and it decides the back office cookie's Secure flag (over a real socket: uvicorn reads the headers)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from stockledger.cli import app
from tests.server import clean_env, spawn
from tests.web.conftest import csrf_of

ORG = "0b9a7d1e-3c55-4c1f-9c7a-5f0e2b6a1d10"
PASSWORD = "proxy test password"


def session_cookie_over_https_proxy(tmp_path: Path, allowed: str) -> str:
    """Sign in through a (pretend) TLS proxy on 127.0.0.1; the session cookie the server sets."""
    data_dir = tmp_path / "data"
    env = clean_env(STOCKLEDGER_DATA_DIR=str(data_dir), STOCKLEDGER_FORWARDED_ALLOW_IPS=allowed)
    created = CliRunner().invoke(
        app,
        [
            "user",
            "create",
            "--org",
            ORG,
            "--email",
            "owner@example.com",
            "--name",
            "Owner",
            "--password-stdin",
        ],
        env=env,
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    server = spawn(env, tmp_path)
    try:
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        with httpx.Client(base_url=server.base_url, headers=proxy, timeout=10) as http:
            form = http.get("/ui/signin")
            # A Secure cookie is not sent back over this plain-HTTP hop by httpx: as the proxy
            # would, pass what the browser holds by hand.
            held = "; ".join(h.split(";", 1)[0] for h in form.headers.get_list("set-cookie"))
            http.cookies.clear()
            answer = http.post(
                "/ui/signin",
                data={"csrf_token": csrf_of(form.text), "email": "owner@example.com", "password": PASSWORD},
                headers={"Cookie": held},
            )
            assert answer.status_code == 303, answer.text
            return next(
                h for h in answer.headers.get_list("set-cookie") if h.startswith("stockledger_session=")
            )
    finally:
        server.kill()


def test_a_believed_proxy_reporting_https_gets_a_secure_cookie(tmp_path: Path) -> None:
    assert "Secure" in session_cookie_over_https_proxy(tmp_path, "127.0.0.1")


@pytest.mark.parametrize("allowed", ["10.9.8.7"])
def test_forwarded_headers_from_an_unlisted_address_are_ignored(tmp_path: Path, allowed: str) -> None:
    assert "Secure" not in session_cookie_over_https_proxy(tmp_path, allowed)
