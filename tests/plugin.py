"""Loaded with ``-p tests.plugin`` before pytest-django configures Django.

It fixes the environment the settings are read from: debug settings, a secret, and a
local Google emulator on a free loopback port for the whole run (allauth reads Google's
URLs once, at import, so the emulator's address must be known before Django starts).
Tasks run inline (django-q2 sync mode) unless a test starts a real worker.
"""

from __future__ import annotations

import os
import socket

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ["Q_SYNC"] = "1"
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", "")

_EMULATOR = None


def _start_emulator() -> None:
    global _EMULATOR
    try:
        from google_emulator import start_emulator
    except ImportError:  # the emulator package is not there yet: plain unit tests still run
        return
    _EMULATOR = start_emulator(port=0)
    os.environ["GOOGLE_EMULATOR_URL"] = _EMULATOR.url


_start_emulator()


def emulator():
    """The run's emulator (an ``EmulatorServer``) or None."""
    return _EMULATOR


class _LoopbackOnly:
    """Refuse outgoing connections beyond loopback: tests never reach the internet."""

    original = socket.socket.connect

    @staticmethod
    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"localhost", "::1", "0.0.0.0"} or host.startswith("/")
        ):
            raise OSError(f"Test tried to reach {host}: only loopback is allowed in tests.")
        return _LoopbackOnly.original(sock, address)


socket.socket.connect = _LoopbackOnly.connect
