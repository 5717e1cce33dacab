"""Rendering pages: the Jinja2 environment (autoescaped), security headers, error pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from stockledger.domain.quantity import format_units
from stockledger.web.nav import NAV

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Pages load only their own assets; nothing may frame them or post them elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def format_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short_uuid(value: str) -> str:
    return value[:8]


def word_breaks(value: str) -> Markup:
    """A CamelCase name (`InventoryBalanceChanged`) that may wrap between its words on a phone."""
    return Markup("<wbr>").join(escape(part) for part in re.split(r"(?<=[a-z])(?=[A-Z])", value))


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every page is HTML: all user-supplied text is escaped
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["units"] = format_units
environment.filters["when"] = format_ms
environment.filters["short"] = short_uuid
environment.filters["word_breaks"] = word_breaks
environment.filters["count"] = "{:,}".format


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """An HTML page from `template`; `user` (or None) decides whether the navigation is shown."""
    context.setdefault("user", None)
    context.setdefault("active", "")
    user = context["user"]
    context.setdefault("nav", [item for item in NAV if user is not None and user.can(item.needs)])
    context["path"] = request.url.path
    html = environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


ERROR_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    409: "Not possible",
    413: "Too large",
    500: "Something went wrong",
}


def error_page(request: Request, status: int, message: str, user: Any = None) -> HTMLResponse:
    title = ERROR_TITLES.get(status, "Error")
    return page(
        request, "error.html", {"status": status, "title": title, "message": message, "user": user}, status
    )
