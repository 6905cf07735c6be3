"""A local Google emulator: OAuth 2.0 / OpenID Connect and Calendar API v3 over HTTP.

Usage::

    from google_emulator import start_emulator

    with start_emulator(port=0) as google:
        print(google.url)  # point the app's GOOGLE_EMULATOR_URL here

A development tool, not part of the product: it imports nothing of the product, and the
product never imports it. It is also a Django app only to bring the `google_emulator`
management command; settings install it when DEBUG or GOOGLE_EMULATOR_URL is set. See
README.md beside this file.
"""

from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .server import EmulatorServer, start_emulator

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "EmulatorServer", "start_emulator"]
