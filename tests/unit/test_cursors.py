"""Opaque cursors: round trip, and clear refusals of tampered or foreign cursors."""

from __future__ import annotations

import base64

import pytest

from stockledger.domain.errors import ServiceError
from stockledger.service import cursors


def test_cursor_round_trips_its_position() -> None:
    check = cursors.filters_check("movements", None, 5)
    assert cursors.decode(cursors.encode([42], check), check, size=1) == [42]


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"p": [1, 2], "f": "x"}').decode(),
        base64.urlsafe_b64encode(b"[1]").decode(),
    ],
)
def test_malformed_cursors_are_refused_naming_the_parameter(cursor: str) -> None:
    with pytest.raises(ServiceError) as raised:
        cursors.decode(cursor, "x", size=1)
    assert raised.value.status == 400
    assert raised.value.violations[0].property_name == "cursor"


def test_a_cursor_of_other_filters_is_refused() -> None:
    cursor = cursors.encode([1], cursors.filters_check("a"))
    with pytest.raises(ServiceError):
        cursors.decode(cursor, cursors.filters_check("b"), size=1)
