"""What a PHP client with strict_types accepts where it hydrates a field: the checks of its setters."""

from __future__ import annotations

from typing import Any

# The organization's text fields both PHP plugins hydrate as `?string` (product-library-api §7.1).
ORGANIZATION_TEXT_FIELDS = (
    "uuid",
    "name",
    "receiptName",
    "city",
    "zipCode",
    "address",
    "addressLine2",
    "legalName",
    "legalAddress",
    "legalZipCode",
    "legalCity",
    "legalState",
    "phoneNumber",
    "contactEmail",
    "receiptEmail",
    "legalEntityType",
    "legalEntityNr",
    "country",
    "language",
    "currency",
    "created",
    "ownerUuid",
    "customerStatus",
    "customerType",
    "timeZone",
)


def is_nullable_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def is_php_float(value: Any) -> bool:
    """A JSON number PHP decodes as int or float (a `float` setter accepts both); never a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_php_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def assert_no_empty_objects(value: Any, path: str = "$") -> None:
    """`{}` decodes to an empty PHP array, which a typed struct setter refuses: never send one."""
    if isinstance(value, dict):
        assert value, f"{path} is an empty object"
        for key, item in value.items():
            assert_no_empty_objects(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_empty_objects(item, f"{path}[{index}]")
