"""`python manage.py google_emulator`: run the local Google emulator in the foreground.

The only Django-aware module of the emulator: it exists so `manage.py` can start it in development.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from google_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, start_emulator


class Command(BaseCommand):
    help = "Serve the local Google emulator (OAuth + Calendar API v3) until interrupted."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8765, help="Port to listen on (0 picks a free one).")
        parser.add_argument("--state", default=None, help="JSON file to load state from and save it to.")
        parser.add_argument("--demo", action="store_true", help="Seed the demo practice's Google accounts.")
        parser.add_argument(
            "--token-lifetime",
            type=int,
            default=3600,
            help="Access token lifetime in seconds (default 3600).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = start_emulator(
            host=options["host"],
            port=options["port"],
            state_file=options["state"],
            access_token_lifetime=options["token_lifetime"],
            demo=options["demo"],
        )
        self.stdout.write(f"Google emulator serving at {server.url}")
        self.stdout.write(f"  OAuth client id: {DEFAULT_CLIENT_ID}  secret: {DEFAULT_CLIENT_SECRET}")
        self.stdout.write(f"  Set GOOGLE_EMULATOR_URL={server.url} for the app. Ctrl-C stops it.")
        self.stdout.flush()
        signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so `kill` still flushes the state file
        server.serve_forever()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)
