"""One HTTP delivery: the signed envelope of spec §7, POSTed with httpx to a checked destination."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

import httpx
import orjson

from stockledger.domain.event_payloads import Message
from stockledger.domain.signing import SIGNATURE_HEADER, signature
from stockledger.events import destinations

DELIVERY_TIMEOUT_S = 10.0  # spec §7: a delivery succeeds on any 2xx within 10 seconds
MAX_STATUS_TEXT = 255  # fits deliveries.last_status
MAX_POOLED_HOSTS = 64  # HTTP clients kept open, one per destination host name
MAX_ANSWER_BYTES = 64 * 1024  # answer body read (and dropped) so its connection can be reused


def envelope(message: Message) -> bytes:
    """The request body. Deterministic, so a retry sends byte-identical content."""
    return orjson.dumps(
        {
            "organizationUuid": message.org_uuid,
            "messageUuid": message.message_uuid,
            "eventName": message.event_name,
            "messageId": message.message_id,
            "payload": message.payload,
            "timestamp": message.timestamp,
        }
    )


def signed_headers(message: Message, signing_key: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(signing_key, message.timestamp, message.payload),
    }


@dataclass(frozen=True)
class Outcome:
    """What one attempt achieved. `status` is the HTTP status, or None when nothing was answered."""

    ok: bool
    status: int | None
    detail: str

    @property
    def label(self) -> str:
        """The delivery log's `lastStatus`."""
        text = str(self.status) if self.status is not None else self.detail
        return text[:MAX_STATUS_TEXT]


async def _discard_body(response: httpx.Response) -> None:
    """Read and drop an answer's body up to MAX_ANSWER_BYTES, then close it. An answer read to its end
    leaves its connection open for the next delivery (a closed, half-read one is dropped, and every
    delivery would pay a new connection); a bigger one is cut off there: a destination cannot make
    us download anything."""
    try:
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > MAX_ANSWER_BYTES:
                break
    except httpx.StreamError:
        pass  # already read (a transport that answers with a loaded body)
    finally:
        await response.aclose()


def _failed(exc: BaseException) -> Outcome:
    """The outcome of an attempt that got no answer."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return Outcome(False, None, "timeout")
    if isinstance(exc, httpx.HTTPError):
        return Outcome(False, None, f"unreachable: {type(exc).__name__}")
    return Outcome(False, None, f"unreachable: {exc}")


class Deliverer:
    """Sends webhook requests: destination rules, a hard 10 s limit, no redirects followed."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_s: float = DELIVERY_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: destinations.Resolver = destinations.system_resolve,
    ) -> None:
        self.allow_private = allow_private
        self.resolve = resolve  # name resolution of destinations (tests give their own)
        self.timeout_s = timeout_s
        self.transport = transport
        # One client per destination host name: requests go to pinned addresses, and a pooled
        # connection (with its TLS session for one name) must never carry another name's request.
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()

    async def _http(self, host: str) -> httpx.AsyncClient:
        client = self._clients.pop(host, None)
        if client is None:
            client = httpx.AsyncClient(
                transport=self.transport,
                follow_redirects=False,
                timeout=httpx.Timeout(self.timeout_s),
                headers={"User-Agent": "stockledger-webhooks"},
            )
        self._clients[host] = client  # most recently used last
        while len(self._clients) > MAX_POOLED_HOSTS:
            _host, oldest = self._clients.popitem(last=False)
            await oldest.aclose()
        return client

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        """POST `body` to `url`; any 2xx within the timeout is success, everything else failure. The
        timeout covers the whole attempt, name resolution included: the dispatcher's lease relies on
        an attempt never lasting longer."""
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                try:
                    target = await destinations.pin(url, self.allow_private, self.resolve)
                except destinations.DestinationBlocked as exc:
                    return Outcome(False, None, f"blocked: {exc}")
                client = await self._http(target.extensions.get("sni_hostname", ""))
                request = client.build_request(
                    "POST",
                    target.url,
                    content=body,
                    headers={**headers, **target.headers},
                    extensions=dict(target.extensions),
                )
                response = await client.send(request, stream=True)
                await _discard_body(response)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            # Once the status has arrived it decides: the body is read only to reuse the connection.
            if response is None:
                return _failed(exc)
        return Outcome(200 <= response.status_code < 300, response.status_code, response.reason_phrase)

    async def deliver(self, url: str, message: Message, signing_key: str) -> Outcome:
        return await self.post(url, envelope(message), signed_headers(message, signing_key))

    async def aclose(self) -> None:
        while self._clients:
            _host, client = self._clients.popitem()
            await client.aclose()
