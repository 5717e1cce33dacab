"""Settings of the service: read once from STOCKLEDGER_* environment variables, overridable by flags."""

from __future__ import annotations

import math
import os
import secrets
import stat
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import AfterValidator, AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stockledger.private_files import private_dir

ENV_PREFIX = "STOCKLEDGER_"
DEFAULT_MAX_CHANGES = 1000
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024  # spec §3: 5 MB
# A client that takes no bytes of its answer for this long is cut off: long enough for any real
# client on a slow link (a full write buffer drains in well under a second at 1 Mbit/s), short
# enough that stalled connections cannot pile up.
DEFAULT_SEND_TIMEOUT_S = 60.0
SECRET_FILE_NAME = "secret"
# Releases before 0.2 kept their data in ./.stockledger of whatever folder a command ran in.
OLD_DATA_DIR_NAME = ".stockledger"


def default_data_dir() -> Path:
    """One place whatever folder a command runs in: the platform's per-user data folder (Linux:
    $XDG_DATA_HOME/stockledger, by default ~/.local/share/stockledger)."""
    return platformdirs.user_data_path("stockledger", appauthor=False)


class ConfigError(Exception):
    """A setting is unusable; the message is one plain sentence for the operator."""


def _port(value: int) -> int:
    if not 0 < value < 65536:
        raise ValueError("must be between 1 and 65535")
    return value


def _not_negative(value: float) -> float:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError("must be zero or more")
    return value


def _public_url(value: str) -> str:
    """An absolute http(s) URL without query or fragment; kept without its trailing slash."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            "must be an absolute http:// or https:// URL without query, e.g. https://stock.example.com"
        )
    return value.rstrip("/")


Port = Annotated[int, AfterValidator(_port)]
Seconds = Annotated[float, AfterValidator(_not_negative)]
Rate = Annotated[float, AfterValidator(_not_negative)]


class Settings(BaseSettings):
    """Every knob of the service. `Settings.from_env()` reads them (unset or empty variables keep the
    default); `with_overrides()` applies CLI flags. Each field is read from STOCKLEDGER_<FIELD NAME>
    unless its alias says otherwise."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # `STOCKLEDGER_PORT=` means "the default", as it always has
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    secret: str = ""
    host: str = "127.0.0.1"
    port: Port = 8000
    max_changes: int = DEFAULT_MAX_CHANGES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    default_low_stock_level: int = 5
    webhook_allow_private: bool = False
    # The back office's sign-in also takes an API key (for automation); people sign in with e-mail
    # and password either way.
    ui_api_key_signin: bool = False
    run_dispatcher: bool = Field(
        default=True, validation_alias=AliasChoices("run_dispatcher", f"{ENV_PREFIX}DISPATCHER")
    )
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_org_claim: str = "org"
    jwt_scope_claim: str = "scope"
    log_level: str = "info"
    shutdown_timeout_s: Seconds = 30.0
    send_timeout_s: Seconds = DEFAULT_SEND_TIMEOUT_S  # 0 = never cut a stalled client off
    rate_limit_per_s: Rate = 0.0  # 0 = off (the embedded default)
    rate_limit_burst: int = 0
    workers: int = 1
    # Proxies whose X-Forwarded-For/-Proto headers are believed (uvicorn's forwarded_allow_ips):
    # comma-separated addresses or networks, or "*" for any.
    forwarded_allow_ips: str = "127.0.0.1"
    # The address clients reach the service at, e.g. https://stock.example.com (the links of v3
    # pages are absolute). Empty: taken from each request's Host header and scheme.
    public_url: Annotated[str, AfterValidator(_public_url)] = ""
    # Where the image URLs of the image service point (`<base>/productimage/o/<key>`); unset: this
    # server, as the client reached it.
    image_base_url: str | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of the environment; a malformed value is one sentence naming its variable."""
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigError(_sentence(exc)) from None

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with the non-None `changes` applied (CLI flags win over the environment)."""
        return self.model_copy(update={k: v for k, v in changes.items() if v is not None})

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
        private_dir(self.data_dir)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        return value


def variable_of(field_name: str) -> str:
    """The environment variable a Settings field is read from."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return next(str(c) for c in alias.choices if str(c).startswith(ENV_PREFIX))
    return ENV_PREFIX + field_name.upper()


# Names of every setting the service reads; anything else with the prefix is likely a typo.
KNOWN_VARIABLES = frozenset(variable_of(name) for name in Settings.model_fields)

# What a value of the wrong kind is told, by pydantic's error type.
_KIND_ERRORS = {
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "finite_number": "must be zero or more",
    "bool_parsing": "must be one of 1/0, true/false, yes/no, on/off",
}


def _sentence(exc: ValidationError) -> str:
    """The first error of `exc` as one sentence for the operator: the variable, the rule, the value."""
    error = exc.errors(include_url=False)[0]
    location = str(error["loc"][0]) if error["loc"] else ""
    name = variable_of(location) if location in Settings.model_fields else location.upper()
    reason = _KIND_ERRORS.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    return f"{name} {reason}, got {error['input']!r}."


def unknown_variables(env: dict[str, str] | None = None) -> list[str]:
    """STOCKLEDGER_* variables the service does not know (probably misspelt)."""
    env = dict(os.environ if env is None else env)
    return sorted(k for k in env if k.startswith(ENV_PREFIX) and k not in KNOWN_VARIABLES)
