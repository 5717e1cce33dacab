"""The PyPI `izettle` client (0.3.5) [Z] as it talks HTTP: every method's request, its default headers
and its answer handling (integration-client-calls.md §4), written from that description.

It is a pass-through: each method returns the decoded JSON (`{}` for an empty 2xx body) and raises
on any other answer. Every request carries `Content-Type: application/json` and `IF-Match: *`,
creates included. On a 401 it reads `errorType` from the JSON body and re-authenticates, then
retries once, only when it says `ACCESS_TOKEN_EXPIRED`. Its own grant (the password grant, retired
by Zettle) cannot run here, so it is handed its tokens, as an operator's harness would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx


class RequestError(Exception):
    """The client's RequestException: raised on any non-2xx answer it does not recover from."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"request error {response.status_code}: {response.text[:200]}")
        self.response = response


class Client:
    """The client's request path: authenticated call, retry after re-authentication, answer handler."""

    def __init__(self, http: httpx.AsyncClient, tokens: Iterator[str]) -> None:
        self.http = http
        self.tokens = tokens
        self.auth_calls = 0
        self.sent: list[httpx.Request] = []
        self.auth()

    def auth(self) -> None:
        self.auth_calls += 1
        self.headers = {
            "Authorization": f"Bearer {next(self.tokens)}",
            "Content-Type": "application/json",
            "IF-Match": "*",
        }

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        async def send() -> httpx.Response:
            response = await self.http.request(method, path, params=params, json=json, headers=self.headers)
            self.sent.append(response.request)
            return response

        response = await send()
        if response.status_code == 401 and response.json()["errorType"] == "ACCESS_TOKEN_EXPIRED":
            self.auth()
            response = await send()
        if not response.is_success:
            raise RequestError(response)
        return response.json() if response.content else {}

    # ---- the methods of the products host ------------------------------------------------------

    async def create_product(self, data: dict[str, Any]) -> Any:
        data = dict(data)
        data.setdefault("uuid", str(uuid.uuid1()))
        data.setdefault("variants", [{"uuid": str(uuid.uuid1())}])
        data.setdefault("vatPercentage", "0")
        return await self.request("POST", "/organizations/self/products", json=data)

    async def update_product(self, product_uuid: str, data: dict[str, Any]) -> Any:
        return await self.request("PUT", f"/organizations/self/products/v2/{product_uuid}", json=data)

    async def get_all_products(self) -> Any:
        return await self.request("GET", "/organizations/self/products")

    async def get_product(self, product_uuid: str) -> Any:
        return await self.request("GET", f"/organizations/self/products/{product_uuid}")

    async def delete_product(self, product_uuid: str) -> Any:
        return await self.request("DELETE", f"/organizations/self/products/{product_uuid}")

    async def delete_product_list(self, params: dict[str, list[str]]) -> Any:
        return await self.request("DELETE", "/organizations/self/products", params=params)

    async def create_product_variant(self, product_uuid: str, data: dict[str, Any]) -> Any:
        data = dict(data)
        data.setdefault("uuid", str(uuid.uuid1()))
        return await self.request("POST", f"/organizations/self/products/{product_uuid}/variants", json=data)

    async def update_product_variant(self, product_uuid: str, variant_uuid: str, data: dict[str, Any]) -> Any:
        path = f"/organizations/self/products/{product_uuid}/variants/{variant_uuid}"
        return await self.request("PUT", path, json=data)

    async def delete_product_variant(self, product_uuid: str, variant_uuid: str) -> Any:
        path = f"/organizations/self/products/{product_uuid}/variants/{variant_uuid}"
        return await self.request("DELETE", path)

    async def get_all_categroies(self) -> Any:  # sic: the client's name
        return await self.request("GET", "/organizations/self/categories")

    async def get_category(self, category_uuid: str) -> Any:
        return await self.request("GET", f"/organizations/self/categories/{category_uuid}")

    async def create_category(self, data: dict[str, Any]) -> Any:
        data = dict(data)
        data.setdefault("uuid", str(uuid.uuid1()))
        return await self.request("POST", "/organizations/self/categories", json=data)

    # ---- the purchase and image hosts ---------------------------------------------------------

    async def get_multiple_purchases(self, params: dict[str, Any]) -> Any:
        # The client hands its params to its HTTP library, which writes `True` as `True`.
        return await self.request("GET", "/purchases/v2", params={k: str(v) for k, v in params.items()})

    async def get_purchase(self, purchase_uuid: str) -> Any:
        return await self.request("GET", f"/purchase/v2/{purchase_uuid}")

    async def create_image(self, data: dict[str, Any]) -> Any:
        return await self.request("POST", "/v2/images/organizations/self/products", json=data)
