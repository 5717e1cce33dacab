"""Fixtures of the integration tests."""

from tests.integration.cli_support import env
from tests.integration.webhooks_support import hooks

__all__ = ["env", "hooks"]
