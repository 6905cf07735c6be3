"""The emulator fixtures of the integration tests, for scenarios that sync against Google."""

from tests.integrations.google.conftest import connect, google  # noqa: F401
