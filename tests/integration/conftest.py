"""Fixtures of the integration tests."""

from tests.integration.webhooks_support import hooks

__all__ = ["hooks"]
