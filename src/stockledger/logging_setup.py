"""JSON logs: one object per line, with the request id of the request being served."""

from __future__ import annotations

import contextvars
import functools
import logging
import sys
import time
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's terminal-coloured copy of the message
}
_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record made while a request is served carries that request's id."""
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


logging.setLogRecordFactory(_record_with_request_id)


@functools.lru_cache(maxsize=64)
def _second(s: int) -> str:
    """`2026-11-26T13:18:11` for the second `s` since the epoch: rendered once for all its lines."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{_second(int(record.created))}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "info") -> None:
    # The access log writes a line per request: what no line shows is not collected (the logging
    # HOWTO's "Optimization": the calling file and line, the thread's and process's names and ids).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # Alembic announces its dialect at INFO on every readiness probe; keep only its warnings.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    # aiosqlite logs every statement with its parameters at DEBUG: signing keys and API key ids are
    # parameters, and secrets must never reach the logs, even at the debug level.
    logging.getLogger("aiosqlite").setLevel(max(root.level, logging.INFO))
    # httpx logs every request it sends at INFO: a line per webhook delivery (the dispatcher logs the
    # failures itself), with the destination's full URL.
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))
