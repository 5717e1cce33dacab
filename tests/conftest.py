"""Shared fixtures: the suite runs against SQLite and PostgreSQL.

Each test session creates its own throw-away PostgreSQL database (so parallel runs never collide)
and isolates tests from one another with a fresh organization UUID per test: all data is
partitioned by organization, exactly as in production.

Under CI=true an unreachable PostgreSQL fails the run instead of skipping its tests.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade
from stockledger.tokens import DEFAULT_SCOPES, mint_access_token

# The default data directory is the platform's per-user data folder: a command the tests run without
# STOCKLEDGER_DATA_DIR must not write the real one (servers the tests start inherit this too).
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="stockledger-test-data-")

TEST_SECRET = "test-secret-" + "x" * 40
PG_ADMIN_DSN = os.environ.get("STOCKLEDGER_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgres"]
# The long runs of tests/soak are collected only by `make soak` (STOCKLEDGER_TEST_SOAK=1).
collect_ignore = [] if os.environ.get("STOCKLEDGER_TEST_SOAK") == "1" else ["soak"]


def _pg_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


async def _pg_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this session (plain postgresql:// URL), dropped at the end."""
    if not asyncio.run(_pg_reachable()):
        if IN_CI:
            pytest.fail("PostgreSQL is unreachable at 127.0.0.1:5432 and CI=true: its tests must run")
        yield None
        return
    name = f"stockledger_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(create())
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(drop())


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The plain database URL of the current backend (skips PostgreSQL when absent outside CI)."""
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_database"))
    url = request.getfixturevalue("pg_database")
    if url is None:
        pytest.skip("PostgreSQL is not reachable")
    return str(url)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret=TEST_SECRET,
        webhook_allow_private=True,
        run_dispatcher=False,
        log_level="warning",
    ).with_overrides(**overrides)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    settings = make_settings(database_url, tmp_path_factory.mktemp("data"))
    url = settings.effective_database_url()
    await upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("appdata"))


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> Any:
    return create_app(settings, db=db)


@dataclass
class Api:
    """An HTTP client bound to one organization, with a token carrying the given scopes."""

    client: httpx.AsyncClient
    org: str
    sub: str = field(default_factory=lambda: str(uuid.uuid4()))
    scopes: str = DEFAULT_SCOPES
    client_id: str | None = None

    def token(self, **overrides: Any) -> str:
        claims = {"org": self.org, "sub": self.sub, "scopes": self.scopes, "client_id": self.client_id}
        claims.update(overrides)
        return mint_access_token(TEST_SECRET, **claims)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}", **extra}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    # ---- conveniences used across the suite ----

    async def locations(self) -> dict[str, str]:
        """type → uuid of the system locations (STORE = the default store)."""
        response = await self.get("/organizations/self/locations")
        assert response.status_code == 200, response.text
        found: dict[str, str] = {}
        for loc in response.json():
            if loc["type"] not in found or loc["default"]:
                found[loc["type"]] = loc["uuid"]
        return found

    async def track(self, product: str) -> None:
        response = await self.post("/organizations/self/inventory", json={"productUuid": product})
        assert response.status_code == 200, response.text

    async def move(
        self, product: str, variant: str, src: str, dst: str, change: Any, **extra: Any
    ) -> httpx.Response:
        body = {
            "changes": [
                {
                    "productUuid": product,
                    "variantUuid": variant,
                    "fromLocationUuid": src,
                    "toLocationUuid": dst,
                    "change": change,
                }
            ],
            **extra,
        }
        return await self.put("/organizations/self/inventory", json=body)


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    """A client for a brand-new organization (tests are isolated by organization)."""
    return Api(client, str(uuid.uuid4()))


@pytest.fixture
def other_api(client: httpx.AsyncClient) -> Api:
    """A client for a second, unrelated organization."""
    return Api(client, str(uuid.uuid4()))


def new_uuid() -> str:
    return str(uuid.uuid4())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` exist only for the PostgreSQL backend (deselected, never skipped)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if item.get_closest_marker("postgres_only") and backend != "postgres":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
