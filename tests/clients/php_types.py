"""What a PHP client with strict_types accepts where it hydrates a field: the checks of its setters."""

from __future__ import annotations

from dataclasses import dataclass
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


# ---- a struct hydrator with typed setters -------------------------------------------------------
#
# What Shopware's plugin does with a decoded answer: each key, camel-cased, names a setter of the
# struct; unknown keys and nulls are skipped; a non-empty object becomes the nested struct; a list
# goes to an array setter, or to a collection of structs; a scalar must have the setter's type
# exactly (strict_types: no coercion, and a bool is no int). `{}` decodes to an empty PHP array, so
# it reaches a struct setter as an array: a TypeError.


@dataclass(frozen=True)
class Many:
    """A setter taking a collection of structs (each item hydrated with `setters`)."""

    setters: dict[str, Any]


Setters = dict[str, Any]


def camel(key: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in key.replace("-", " ").replace("_", " ").split())


def hydrate(data: dict[str, Any], setters: Setters) -> dict[str, Any]:
    """The struct as the plugin builds it (setter name → value); raises TypeError where PHP would."""
    hydrated: dict[str, Any] = {}
    for key, value in data.items():
        name = camel(key)
        if name not in setters:
            continue
        expected = setters[name]
        if isinstance(value, dict) and value:
            if isinstance(expected, dict):
                hydrated[name] = hydrate(value, expected)
                continue
            raise TypeError(f"set{name}() needs {expected}, got an object")
        if isinstance(value, list | dict):
            if isinstance(expected, Many):
                if not isinstance(value, list) or not all(isinstance(v, dict) and v for v in value):
                    raise TypeError(f"set{name}() needs a collection of structs")
                hydrated[name] = [hydrate(v, expected.setters) for v in value]
                continue
            if expected is not list:
                raise TypeError(f"set{name}() needs {expected}, got an array")
            hydrated[name] = [v for v in value if v is not None] if isinstance(value, list) else []
            continue
        if value is None:
            continue
        accepted = expected if isinstance(expected, tuple) else (expected,)
        if type(value) not in accepted:
            raise TypeError(f"set{name}() needs {expected}, got {type(value).__name__}")
        hydrated[name] = value
    return hydrated
