"""Pure rules: UUID canonical form, netting of movements in lock order, error paths, settings, tokens."""

from __future__ import annotations

import itertools
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockledger.api.errors import property_path
from stockledger.config import ConfigError, Settings
from stockledger.domain.changes import Change, net_deltas
from stockledger.domain.event_payloads import envelope_timestamp, payload_timestamp
from stockledger.domain.ids import canonical_uuid, new_location_uuid, new_uuid1
from stockledger.domain.locations import parse_location_type
from stockledger.store.outbox import MESSAGE_ID_NAMESPACE, event, message_id_for
from stockledger.tokens import TokenError, mint_access_token, parse_ttl, verify_access_token_expiry


def test_uuids_are_canonical_lowercase_and_malformed_ones_refused() -> None:
    value = str(uuid.uuid4())
    assert canonical_uuid(value.upper()) == value
    for bad in ("", "x", value[:-1], value.replace("-", ""), "{" + value + "}", 5, None):
        assert canonical_uuid(bad) is None


def test_location_uuids_are_version_one() -> None:
    assert uuid.UUID(new_location_uuid()).version == 1


def test_version_one_uuids_are_unique_and_their_time_never_goes_back() -> None:
    made = [uuid.UUID(new_uuid1()) for _ in range(50_000)]
    assert {u.version for u in made} == {1}
    assert len(set(made)) == len(made)
    assert all(a.time <= b.time for a, b in itertools.pairwise(made))


def test_event_message_uuids_are_version_one_and_their_ids_version_five() -> None:
    e = event("InventoryBalanceChanged", {"a": 1})
    assert uuid.UUID(e.message_uuid).version == 1
    assert e.message_id == str(uuid.uuid5(uuid.UUID(str(MESSAGE_ID_NAMESPACE)), e.message_uuid))


def test_event_timestamps() -> None:
    assert payload_timestamp(1795699091966) == "2026-11-26T13:18:11.966+0000"
    assert envelope_timestamp(1795699091999) == "2026-11-26T13:18:11.999Z"
    assert envelope_timestamp(5) == "1970-01-01T00:00:00.005Z"


@given(st.integers(min_value=-(10**12), max_value=253402300799999))  # ... year 9999
def test_event_timestamps_are_the_datetime_renderings(ms: int) -> None:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    assert payload_timestamp(ms) == f"{moment}{ms % 1000:03d}+0000"
    assert envelope_timestamp(ms) == f"{moment}{ms % 1000:03d}Z"


@given(st.text())
def test_message_ids_are_the_standard_version_five_uuids(name: str) -> None:
    # a messageUuid keeps the messageId it always had (retries and receivers de-duplicate on them)
    standard = uuid.uuid5(uuid.UUID("6b1c1f9e-3c1a-5d4e-9a49-6f3d2a1b7c55"), name)
    assert message_id_for(name) == str(standard)


def test_location_types_in_any_case() -> None:
    assert parse_location_type("sUpPlIeR") == "SUPPLIER"
    assert parse_location_type("shelf") is None


def test_net_deltas_sum_per_balance_in_sorted_key_order() -> None:
    changes = [
        Change("p", "v", "b", "a", 5000),
        Change("p", "v", "a", "c", 2000),
        Change("p", "w", "a", "b", 1),
    ]
    deltas = net_deltas(changes)
    assert list(deltas) == sorted(deltas)
    assert deltas == {
        ("a", "p", "v"): 3000,
        ("a", "p", "w"): -1,
        ("b", "p", "v"): -5000,
        ("b", "p", "w"): 1,
        ("c", "p", "v"): 2000,
    }
    assert sum(deltas.values()) == 0  # a movement creates nothing: it only moves


def test_a_change_is_positive_between_distinct_locations() -> None:
    with pytest.raises(AssertionError):
        Change("p", "v", "a", "b", 0)
    with pytest.raises(AssertionError):
        Change("p", "v", "a", "a", 1)


def test_violation_paths_use_zettle_notation() -> None:
    assert property_path(("body", "productChanges", 0, "variantChanges", 1, "change")) == (
        "productChanges[0].variantChanges[1].change"
    )
    assert property_path(("query", "since")) == "since"


def test_generated_secret_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    secret = settings.resolve_secret()
    path = tmp_path / "data" / "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= 40 and settings.resolve_secret() == secret
    path.chmod(0o644)
    with pytest.raises(ConfigError):
        settings.resolve_secret()


def test_ttl_and_expiry() -> None:
    assert [parse_ttl(t) for t in ("2h", "30m", "45s", "1d", "90")] == [7200, 1800, 45, 86400, 90]
    org = str(uuid.uuid4())
    assert verify_access_token_expiry("s" * 40, mint_access_token("s" * 40, org=org))[0].org == org
    with pytest.raises(TokenError):
        verify_access_token_expiry("s" * 40, mint_access_token("s" * 40, org=org, ttl_s=10, now_s=1000))
