"""The emulator fixtures of the integration tests (scenarios that sync against Google) and the log guard."""

from tests.integrations.google.conftest import connect, google  # noqa: F401
from tests.ops.leaks import no_secrets_in_logs  # noqa: F401
