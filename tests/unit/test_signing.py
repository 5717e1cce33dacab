"""The webhook signature reproduces the known-answer vectors byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockledger.domain.signing import signature, verify

VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "webhook-signature-vectors.json").read_text())[
    "vectors"
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["timestamp"])
def test_signature_matches_known_answer(vector: dict[str, str]) -> None:
    assert signature(vector["signingKey"], vector["timestamp"], vector["payload"]) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["timestamp"])
def test_verify_rejects_a_payload_changed_by_one_byte(vector: dict[str, str]) -> None:
    assert verify(vector["signingKey"], vector["timestamp"], vector["payload"], vector["signature"].upper())
    assert not verify(vector["signingKey"], vector["timestamp"], vector["payload"] + " ", vector["signature"])


@pytest.mark.parametrize("received", ["é" * 64, "\u00ff", "a\u2603"])
def test_a_signature_with_non_ascii_characters_does_not_match(received: str) -> None:
    vector = VECTORS[0]
    assert not verify(vector["signingKey"], vector["timestamp"], vector["payload"], received)
