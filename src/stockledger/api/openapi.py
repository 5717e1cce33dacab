"""The API documentation: `/openapi.json` and the Swagger UI at `/swagger`, which works offline.

The document is FastAPI's, refined once when first asked for:
- each operation gets a short camelCase `operationId` (its function's name: `updateBalances`), and
  a summary (its docstring's first line, else its name in words);
- the bearer scheme is declared, and every operation that takes a token names it, so Swagger's
  "Authorize" works;
- each operation lists only the error statuses it can answer (a route declares the error body for
  all of them; which ones apply follows from what the route takes: a token, a body, parameters);
- the contract's examples are attached to the operations they illustrate (`openapi_examples.py`).

The Swagger UI's script and style sheet come from a packaged copy (fastapi-offline's static
files), served here: the page needs no CDN.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

from stockledger.api.openapi_examples import EXAMPLES

ASSETS_PATH = "/swagger-assets"
MAX_SUMMARY = 100
BEARER = "bearerAuth"
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Reads sent with POST (a body, but no effect): no Idempotency-Key conflict can be answered.
_READ_BY_POST = {"inventoryOfProducts", "trackingStatus", "stockOfProducts", "token"}


def install(app: FastAPI) -> None:
    """Serve the Swagger UI and its assets (the app is created with `docs_url=None`)."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(assets)), name="swagger-assets")

    async def swagger(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayOperationId": True},
        )

    app.add_route("/swagger", swagger, include_in_schema=False)


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, including those of included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


def camel(name: str) -> str:
    head, *rest = name.strip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _is_secured(route: APIRoute) -> bool:
    """Whether the route authenticates its caller (a dependency marked by `api.auth.bearer`)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if getattr(dependency.call, "bearer_auth", False):
            return True
        pending.extend(dependency.dependencies)
    return False


def _statuses(route: APIRoute, method: str, operation_id: str) -> set[str]:
    """The error statuses an operation can answer."""
    secured = _is_secured(route)
    path_params = {p.name for p in route.dependant.path_params} - {"org"}
    has_body = route.dependant.body_params != [] or method in WRITE_METHODS - {"delete"}
    declared = (route.openapi_extra or {}).get("parameters", [])  # read from the request itself
    takes_input = has_body or bool(path_params) or bool(route.dependant.query_params) or bool(declared)
    statuses: set[str] = set()
    if secured:
        statuses |= {"401", "403", "429"}
    if takes_input or (secured and method in WRITE_METHODS):
        statuses.add("400")
    if path_params:
        statuses.add("404")
    if has_body:
        statuses.add("413")
    if secured and method in WRITE_METHODS and operation_id not in _READ_BY_POST:
        statuses.add("409")  # an Idempotency-Key reused with another request, insufficient stock …
    return statuses | _OTHER_AUTHENTICATION.get(operation_id, set())


# Operations that authenticate their caller otherwise than by bearer token.
_OTHER_AUTHENTICATION = {"zettleWebhook": {"401"}}  # X-iZettle-Signature

ERROR_STATUSES = {"400", "401", "403", "404", "405", "409", "413", "429", "500"}


def document(app: FastAPI, first: Sequence[str] = ()) -> dict[str, Any]:
    """The OpenAPI document (built once); the paths in `first` head it."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    routes = [r for r in api_routes(app.routes) if r.include_in_schema]
    names = [r.operation_id or camel(r.name) for r in routes]
    ids = {
        id(r): n
        if names.count(n) == 1
        else camel(f"{r.tags[0] if r.tags else 'op'}_{r.name}".replace(" ", "_"))
        for r, n in zip(routes, names, strict=True)
    }
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    by_operation = {(m.lower(), r.path_format): r for r in routes for m in r.methods or ()}
    secured_any = False
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            route = by_operation.get((method, path))
            responses = operation.get("responses", {})
            responses.pop("422", None)
            if route is None:
                continue
            operation_id = ids[id(route)]
            operation["operationId"] = operation_id
            operation["summary"] = first_sentence(route.description) or _words(route.name)
            if ERROR_STATUSES <= set(responses):  # the blanket declaration: keep what applies
                allowed = _statuses(route, method, operation_id)
                for status in [s for s in responses if s in ERROR_STATUSES and s not in allowed]:
                    del responses[status]
            if _is_secured(route) or operation.get("security"):
                operation["security"] = [{BEARER: []}]
                secured_any = True
            _attach_examples(operation, EXAMPLES.get(operation_id))
    schemas = doc.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    if secured_any:
        doc.setdefault("components", {})["securitySchemes"] = {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token (`stockledger token --org …`, or `POST /token` with a key)",
            }
        }
    paths = doc.get("paths", {})
    heading = [p for p in first if p in paths]
    doc["paths"] = {p: paths[p] for p in heading} | {p: v for p, v in paths.items() if p not in heading}
    app.openapi_schema = doc
    return doc


def first_sentence(text: str | None) -> str:
    """The first sentence of a docstring's first paragraph (its lines joined), without its period."""
    paragraph = " ".join((text or "").strip().split("\n\n")[0].split())
    sentence = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0].rstrip(".")
    if len(sentence) > MAX_SUMMARY:  # a long sentence: its main clause
        sentence = re.split(r":|;| \(", sentence, maxsplit=1)[0]
    return sentence


def _words(name: str) -> str:
    text = re.sub(r"_+", " ", name).strip()
    return text[:1].upper() + text[1:]


def _attach_examples(operation: dict[str, Any], examples: dict[str, Any] | None) -> None:
    if not examples:
        return
    if "request" in examples:
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None:
            content["example"] = examples["request"]
    if "response" in examples:
        for status in ("200", "201"):
            content = (
                operation.get("responses", {}).get(status, {}).get("content", {}).get("application/json")
            )
            if content is not None:
                content["example"] = examples["response"]
                break
