"""Encryption of secrets at rest (OAuth tokens, channel tokens) with Fernet.

Keys come from ``TOKEN_ENCRYPTION_KEYS`` (comma-separated, newest first, so keys can be
rotated: the newest encrypts, all decrypt). Without it a key is derived from SECRET_KEY,
which is acceptable on a developer's machine only.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"copilot-tokens", info=b"fernet").derive(
        secret_key.encode()
    )
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + _current().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """The plaintext of ``value``. Raises ``ValueError`` when no configured key opens it."""
    if not value:
        return ""
    if not value.startswith(PREFIX):
        raise ValueError("Value is not encrypted.")
    try:
        return _current().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("No configured TOKEN_ENCRYPTION_KEYS key can decrypt this value.") from exc
