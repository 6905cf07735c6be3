"""Encryption of secrets at rest (OAuth tokens, channel tokens) with Fernet.

Keys come from ``TOKEN_ENCRYPTION_KEYS`` (comma-separated, newest first, so keys can be
rotated: the newest encrypts, all decrypt). Without it a key is derived from SECRET_KEY,
which is acceptable on a developer's machine only. ``rotate`` re-encrypts a stored value under
the newest key without handing its plaintext to anyone (the ``rotate_token_keys`` command).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet:"


def _derived(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"copilot-tokens", info=b"fernet").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...], secret_key: str) -> tuple[Fernet, ...]:
    if keys:
        return tuple(Fernet(key.encode()) for key in keys)
    return (_derived(secret_key),)


def _keys() -> tuple[Fernet, ...]:
    """The configured keys, newest first."""
    return _keyring(tuple(settings.TOKEN_ENCRYPTION_KEYS), settings.SECRET_KEY)


def _current() -> MultiFernet:
    return MultiFernet(_keys())


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


def rotate(value: str, *, accept_secret_key: bool = False) -> str:
    """``value`` as stored, re-encrypted under the newest key (empty stays empty).

    ``accept_secret_key`` also opens values written under the key derived from SECRET_KEY (a
    deployment that ran without ``TOKEN_ENCRYPTION_KEYS`` until now). Raises ``ValueError``
    when no key opens the value.
    """
    if not value:
        return ""
    if not value.startswith(PREFIX):
        raise ValueError("Value is not encrypted.")
    keys = list(_keys())
    if accept_secret_key and settings.TOKEN_ENCRYPTION_KEYS:
        keys.append(_derived(settings.SECRET_KEY))
    try:
        return PREFIX + MultiFernet(keys).rotate(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("No configured TOKEN_ENCRYPTION_KEYS key can decrypt this value.") from exc


def opens_with_newest_key(value: str) -> bool:
    """True when the newest key alone decrypts ``value`` as stored (so older keys can go)."""
    if not value:
        return True
    try:
        _keys()[0].decrypt(value.removeprefix(PREFIX).encode())
    except InvalidToken:
        return False
    return value.startswith(PREFIX)
