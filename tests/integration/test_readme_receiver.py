"""The README's ten-line webhook receiver really verifies our signatures (the README stays true)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from stockledger.domain.event_payloads import subscription_test_message
from stockledger.domain.ids import new_uuid1
from stockledger.domain.signing import signature
from stockledger.events.delivery import envelope as delivery_body
from stockledger.events.delivery import signed_headers
from tests.server import free_port

README = Path(__file__).parents[2] / "README.md"
VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "webhook-signature-vectors.json").read_text())


def receiver_source(key: str, port: int) -> str:
    section = README.read_text().split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert code, "the README's Webhooks section has a Python receiver"
    source = code.group(1)
    assert source.count("\n") <= 20, "the example stays short"
    source = source.replace('b"the signingKey of your subscription"', repr(key.encode()))
    return source.replace('("0.0.0.0", 9000)', f'("127.0.0.1", {port})')


def test_readme_receiver_accepts_our_signature_and_refuses_a_tampered_payload(tmp_path: Path) -> None:
    vector = VECTORS["vectors"][1]
    port = free_port()
    script = tmp_path / "receiver.py"
    script.write_text(receiver_source(vector["signingKey"], port))
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        envelope = {
            "organizationUuid": "d3f03ffa-4a18-4282-bbfa-efd5f642ffb7",
            "messageUuid": "5b3f0c8e-a110-11eb-8000-000000000001",
            "eventName": "InventoryBalanceChanged",
            "messageId": "0e8b4c6a-5a1c-5b2e-9c3d-4e5f6a7b8c9d",
            "payload": vector["payload"],
            "timestamp": vector["timestamp"],
        }
        good = signature(vector["signingKey"], vector["timestamp"], vector["payload"])
        assert good == vector["signature"]
        assert httpx.post(url, json=envelope, headers={"X-iZettle-Signature": good}).status_code == 204
        tampered = {**envelope, "payload": vector["payload"].replace('"2.5"', '"250"')}
        assert httpx.post(url, json=tampered, headers={"X-iZettle-Signature": good}).status_code == 401
        # The TestMessage as stockledger sends it: signed, verified like every message, and also
        # acknowledged when signed with a key the receiver does not know yet (as at subscription).
        test = subscription_test_message(
            envelope["organizationUuid"], new_uuid1(), new_uuid1(), 1_700_000_000_000
        )
        for key in (vector["signingKey"], "the key of a subscription being created"):
            sent = httpx.post(url, content=delivery_body(test), headers=signed_headers(test, key))
            assert sent.status_code == 204
    finally:
        process.terminate()
        process.wait(timeout=10)
