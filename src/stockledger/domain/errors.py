"""Errors the service raises; the API turns each into the Zettle error shape (spec §3)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Violation:
    property_name: str
    message: str


@dataclass
class ServiceError(Exception):
    """Base of every expected failure: carries the HTTP status, errorType and violations."""

    message: str
    status: int = 400
    error_type: str = "VALIDATION_ERROR"
    violations: list[Violation] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def validation_error(violations: list[Violation]) -> ServiceError:
    """A 400 naming every offending property; the first one is the developerMessage."""
    first = violations[0]
    message = f"{first.property_name} {first.message}" if first.property_name else first.message
    return ServiceError(message, 400, "VALIDATION_ERROR", violations)


def not_tracked(product_uuid: str, path: str = "productUuid") -> ServiceError:
    return ServiceError(
        f"Product {product_uuid} is not tracked",
        400,
        "PRODUCT_NOT_TRACKED",
        [Violation(path, "product is not tracked")],
    )


def not_found(message: str = "Entity not found") -> ServiceError:
    return ServiceError(message, 404, "ENTITY_NOT_FOUND")


def forbidden(message: str = "Forbidden") -> ServiceError:
    return ServiceError(message, 403, "FORBIDDEN")


def unauthenticated(message: str = "Missing or invalid access token") -> ServiceError:
    return ServiceError(message, 401, "UNAUTHENTICATED", headers={"WWW-Authenticate": "Bearer"})


def access_token_expired(message: str = "The access token has expired") -> ServiceError:
    """An expired but otherwise valid token: clients re-authenticate on exactly this errorType."""
    return ServiceError(message, 401, "ACCESS_TOKEN_EXPIRED", headers={"WWW-Authenticate": "Bearer"})


class PreconditionFailed(ServiceError):
    """An `If-Match` that names another version: answered 412 without a body (the API's handler)."""


def precondition_failed(
    message: str = "The entity has changed (If-Match does not match its etag)",
) -> ServiceError:
    return PreconditionFailed(message, 412, "PRECONDITION_FAILED")
