"""A local Google emulator: OAuth 2.0 / OpenID Connect and Calendar API v3 over HTTP.

Usage::

    from integrations.google.emulator import start_emulator

    with start_emulator(port=0) as google:
        print(google.url)  # point the app's GOOGLE_EMULATOR_URL here

The package imports nothing of the product; see README.md beside this file.
"""

from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .server import EmulatorServer, start_emulator

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "EmulatorServer", "start_emulator"]
