"""Checking settings before the service starts, describing failures in one sentence, and the effective view.

Every problem an operator can cause with the environment (a misspelt variable, a malformed or
unreachable database URL, an unknown log level) becomes one plain sentence, so the CLI can print
it and exit with status 2 instead of showing a traceback.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from stockledger.config import (
    KNOWN_VARIABLES,
    OLD_DATA_DIR_NAME,
    SECRET_FILE_NAME,
    ConfigError,
    Settings,
    unknown_variables,
)

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DATABASE_SCHEMES = ("postgresql", "postgres", "sqlite")
# Variables of the project's own test harness, not of the service: never reported as typos.
IGNORED_PREFIXES = ("STOCKLEDGER_TEST_",)
REDACTED = "<redacted>"

# Each setting, in the order `stockledger config` shows them, with the Settings field it fills.
FIELDS: dict[str, str] = {
    "STOCKLEDGER_DATABASE_URL": "database_url",
    "STOCKLEDGER_DATA_DIR": "data_dir",
    "STOCKLEDGER_SECRET": "secret",
    "STOCKLEDGER_HOST": "host",
    "STOCKLEDGER_PORT": "port",
    "STOCKLEDGER_PUBLIC_URL": "public_url",
    "STOCKLEDGER_FORWARDED_ALLOW_IPS": "forwarded_allow_ips",
    "STOCKLEDGER_WORKERS": "workers",
    "STOCKLEDGER_LOG_LEVEL": "log_level",
    "STOCKLEDGER_SHUTDOWN_TIMEOUT_S": "shutdown_timeout_s",
    "STOCKLEDGER_SEND_TIMEOUT_S": "send_timeout_s",
    "STOCKLEDGER_MAX_CHANGES": "max_changes",
    "STOCKLEDGER_MAX_BODY_BYTES": "max_body_bytes",
    "STOCKLEDGER_RATE_LIMIT_PER_S": "rate_limit_per_s",
    "STOCKLEDGER_RATE_LIMIT_BURST": "rate_limit_burst",
    "STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL": "default_low_stock_level",
    "STOCKLEDGER_DISPATCHER": "run_dispatcher",
    "STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "webhook_allow_private",
    "STOCKLEDGER_UI_API_KEY_SIGNIN": "ui_api_key_signin",
    "STOCKLEDGER_JWKS_URL": "jwks_url",
    "STOCKLEDGER_JWT_ISSUER": "jwt_issuer",
    "STOCKLEDGER_JWT_AUDIENCE": "jwt_audience",
    "STOCKLEDGER_JWT_ORG_CLAIM": "jwt_org_claim",
    "STOCKLEDGER_JWT_SCOPE_CLAIM": "jwt_scope_claim",
    "STOCKLEDGER_IMAGE_BASE_URL": "image_base_url",
}


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to print or log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Unparseable: still never echo what could be a password between ':' and '@'.
        scheme, sep, rest = url.partition("://")
        if sep and "@" in rest:
            return f"{scheme}://{REDACTED}@{rest.rsplit('@', 1)[1]}"
        return url


def check_unknown_variables(env: Mapping[str, str] | None = None) -> None:
    """Refuse STOCKLEDGER_* variables the service does not know: they are almost always typos."""
    unknown = [
        name
        for name in unknown_variables(dict(os.environ if env is None else env))
        if not name.startswith(IGNORED_PREFIXES)
    ]
    if not unknown:
        return
    name = unknown[0]
    guess = difflib.get_close_matches(name, sorted(KNOWN_VARIABLES), n=1)
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    raise ConfigError(f"{name} is not a setting stockledger knows{hint}; see docs/configuration.md.")


def check_database_url(url: str) -> None:
    """A URL of a supported database that SQLAlchemy can parse (empty means the embedded SQLite)."""
    if not url:
        return
    scheme = url.partition("://")[0].split("+", 1)[0].lower()
    if "://" not in url or scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"STOCKLEDGER_DATABASE_URL must start with postgresql:// or sqlite:///, got {redact_url(url)!r}."
        )
    try:
        parsed = make_url(Settings(database_url=url).effective_database_url())
    except (ArgumentError, ValueError):
        shown = redact_url(url)
        raise ConfigError(f"STOCKLEDGER_DATABASE_URL is not a valid database URL: {shown!r}.") from None
    if scheme != "sqlite" and not parsed.database:
        raise ConfigError(f"STOCKLEDGER_DATABASE_URL names no database: {redact_url(url)!r}.")


def check_settings(settings: Settings) -> None:
    """Everything that can be checked without touching the network or the database."""
    check_database_url(settings.database_url)
    if not 0 < settings.port < 65536:
        raise ConfigError(f"STOCKLEDGER_PORT must be between 1 and 65535, got {settings.port}.")
    if settings.workers < 1:
        raise ConfigError(f"STOCKLEDGER_WORKERS must be 1 or more, got {settings.workers}.")
    if settings.log_level not in LOG_LEVELS:
        raise ConfigError(
            f"STOCKLEDGER_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {settings.log_level!r}."
        )
    if settings.jwks_url and not settings.jwks_url.startswith(("https://", "http://")):
        raise ConfigError(f"STOCKLEDGER_JWKS_URL must be an http(s) URL, got {settings.jwks_url!r}.")
    if settings.image_base_url and not settings.image_base_url.startswith(("https://", "http://")):
        raise ConfigError(
            f"STOCKLEDGER_IMAGE_BASE_URL must be an http(s) URL, got {settings.image_base_url!r}."
        )
    check_old_data_dir(settings)


def check_old_data_dir(settings: Settings, cwd: Path | None = None) -> None:
    """Refuse to start a second data directory (a second secret: every issued key refused) beside
    the ./.stockledger an older release made here, when the data directory is the default one."""
    if "data_dir" in settings.model_fields_set:
        return
    old = (cwd or Path.cwd()) / OLD_DATA_DIR_NAME
    if old.resolve() == settings.data_dir.resolve():
        return
    holds_data = (old / SECRET_FILE_NAME).exists() or (old / "stockledger.db").exists()
    if holds_data and not (settings.data_dir / SECRET_FILE_NAME).exists():
        raise ConfigError(
            f"{old} holds the data of an older release, whose default data directory was the"
            f" current folder's .stockledger; the default is now {settings.data_dir}: move it there"
            f" (mkdir -p {settings.data_dir.parent} && mv {old} {settings.data_dir})"
            f" or set STOCKLEDGER_DATA_DIR={old}."
        )


def describe_database_error(exc: BaseException, settings: Settings) -> str | None:
    """One sentence for a failure to reach or open the database; None if `exc` is something else."""
    where = redact_url(settings.database_url) if settings.database_url else str(settings.data_dir)
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig or exc).splitlines()[0]
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
    else:
        return None
    return f"cannot use the database at {where}: {reason.rstrip('.')}."


def effective_settings(settings: Settings) -> list[tuple[str, str]]:
    """(variable, value) for every setting, secrets redacted: what `stockledger config` prints."""
    rows: list[tuple[str, str]] = []
    # Settings added later without an entry in FIELDS still show, read from their namesake field.
    later = sorted(KNOWN_VARIABLES - FIELDS.keys())
    for name, attr in [*FIELDS.items(), *((n, n.removeprefix("STOCKLEDGER_").lower()) for n in later)]:
        value = getattr(settings, attr, os.environ.get(name))
        if name == "STOCKLEDGER_SECRET":
            shown = REDACTED if value else f"(generated, kept in {settings.data_dir / SECRET_FILE_NAME})"
        elif name == "STOCKLEDGER_DATABASE_URL":
            embedded = settings.data_dir / "stockledger.db"
            shown = redact_url(value) if value else f"(embedded SQLite at {embedded})"
        elif isinstance(value, bool):
            shown = "1" if value else "0"
        elif value is None:
            shown = ""
        else:
            shown = str(value)
        rows.append((name, shown))
    return rows
