"""Settings of the service: read once from STOCKLEDGER_* environment variables, overridable by flags."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# Names of every setting the service reads; anything else with the prefix is likely a typo.
KNOWN_VARIABLES = frozenset(
    {
        "STOCKLEDGER_DATABASE_URL",
        "STOCKLEDGER_DATA_DIR",
        "STOCKLEDGER_SECRET",
        "STOCKLEDGER_HOST",
        "STOCKLEDGER_PORT",
        "STOCKLEDGER_MAX_CHANGES",
        "STOCKLEDGER_MAX_BODY_BYTES",
        "STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL",
        "STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE",
        "STOCKLEDGER_DISPATCHER",
        "STOCKLEDGER_JWKS_URL",
        "STOCKLEDGER_JWT_ISSUER",
        "STOCKLEDGER_JWT_AUDIENCE",
        "STOCKLEDGER_JWT_ORG_CLAIM",
        "STOCKLEDGER_JWT_SCOPE_CLAIM",
        "STOCKLEDGER_LOG_LEVEL",
        "STOCKLEDGER_SHUTDOWN_TIMEOUT_S",
        "STOCKLEDGER_SEND_TIMEOUT_S",
        "STOCKLEDGER_RATE_LIMIT_PER_S",
        "STOCKLEDGER_RATE_LIMIT_BURST",
        "STOCKLEDGER_WORKERS",
    }
)

DEFAULT_MAX_CHANGES = 1000
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024  # spec §3: 5 MB
# A client that takes no bytes of its answer for this long is cut off: long enough for any real
# client on a slow link (a full write buffer drains in well under a second at 1 Mbit/s), short
# enough that stalled connections cannot pile up.
DEFAULT_SEND_TIMEOUT_S = 60.0
SECRET_FILE_NAME = "secret"


class ConfigError(Exception):
    """A setting is unusable; the message is one plain sentence for the operator."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be zero or more, got {raw!r}.")
    return value


@dataclass(frozen=True)
class Settings:
    """Every knob of the service. Build with `Settings.from_env()` and adjust with `replace()`."""

    data_dir: Path = Path(".stockledger")
    database_url: str = ""
    secret: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    max_changes: int = DEFAULT_MAX_CHANGES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    default_low_stock_level: int = 5
    webhook_allow_private: bool = False
    run_dispatcher: bool = True
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_org_claim: str = "org"
    jwt_scope_claim: str = "scope"
    log_level: str = "info"
    shutdown_timeout_s: float = 30.0
    send_timeout_s: float = DEFAULT_SEND_TIMEOUT_S  # 0 = never cut a stalled client off
    rate_limit_per_s: float = 0.0  # 0 = off (the embedded default)
    rate_limit_burst: int = 0
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("STOCKLEDGER_DATA_DIR") or ".stockledger")
        port = _int(env, "STOCKLEDGER_PORT", 8000)
        if not 0 < port < 65536:
            raise ConfigError(f"STOCKLEDGER_PORT must be between 1 and 65535, got {port}.")
        return cls(
            data_dir=data_dir,
            database_url=env.get("STOCKLEDGER_DATABASE_URL", ""),
            secret=env.get("STOCKLEDGER_SECRET", ""),
            host=env.get("STOCKLEDGER_HOST") or "127.0.0.1",
            port=port,
            max_changes=_int(env, "STOCKLEDGER_MAX_CHANGES", DEFAULT_MAX_CHANGES),
            max_body_bytes=_int(env, "STOCKLEDGER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            default_low_stock_level=_int(env, "STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL", 5),
            webhook_allow_private=_truthy(env.get("STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE")),
            run_dispatcher=env.get("STOCKLEDGER_DISPATCHER", "1") not in {"0", "false", "off", "no"},
            jwks_url=env.get("STOCKLEDGER_JWKS_URL") or None,
            jwt_issuer=env.get("STOCKLEDGER_JWT_ISSUER") or None,
            jwt_audience=env.get("STOCKLEDGER_JWT_AUDIENCE") or None,
            jwt_org_claim=env.get("STOCKLEDGER_JWT_ORG_CLAIM") or "org",
            jwt_scope_claim=env.get("STOCKLEDGER_JWT_SCOPE_CLAIM") or "scope",
            log_level=(env.get("STOCKLEDGER_LOG_LEVEL") or "info").lower(),
            shutdown_timeout_s=_float(env, "STOCKLEDGER_SHUTDOWN_TIMEOUT_S", 30.0),
            send_timeout_s=_float(env, "STOCKLEDGER_SEND_TIMEOUT_S", DEFAULT_SEND_TIMEOUT_S),
            rate_limit_per_s=_float(env, "STOCKLEDGER_RATE_LIMIT_PER_S", 0.0),
            rate_limit_burst=_int(env, "STOCKLEDGER_RATE_LIMIT_BURST", 0),
            workers=_int(env, "STOCKLEDGER_WORKERS", 1),
        )

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with the non-None `changes` applied (CLI flags win over the environment)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def effective_database_url(self) -> str:
        """The SQLAlchemy async URL: the given one, or the embedded SQLite file in the data dir."""
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'stockledger.db').as_posix()}"
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url

    def resolve_secret(self) -> str:
        """The HS256 signing secret: given, or generated once and kept in the data dir with mode 0600."""
        if self.secret:
            return self.secret
        path = self.data_dir / SECRET_FILE_NAME
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise ConfigError(
                    f"The secret file {path} is readable by others (mode {mode:o}); run chmod 600 on it."
                )
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        return value


def unknown_variables(env: dict[str, str] | None = None) -> list[str]:
    """STOCKLEDGER_* variables the service does not know (probably misspelt)."""
    env = dict(os.environ if env is None else env)
    return sorted(k for k in env if k.startswith("STOCKLEDGER_") and k not in KNOWN_VARIABLES)
