"""Log hygiene: no OAuth token and no patient name (appointment title) in any log line.

``no_secrets_in_logs`` captures every record at DEBUG for a test and, at its end, looks for
each token the emulator issued (and the product stores) and each appointment title in every
line, formatted both as plain text and as the JSON the production formatter writes (which
includes any ``extra`` fields). The fault suites use it for all their tests.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from tests import plugin

MIN_NEEDLE = 6  # shorter titles ("Crown") are ordinary words; tokens are long


def json_formatter() -> logging.Formatter:
    """The formatter ``LOG_FORMAT=json`` installs, built from the settings."""
    config = dict(settings.LOGGING["formatters"]["json"])
    return import_string(config.pop("()"))(**config)


def context_filter() -> logging.Filter:
    return import_string(settings.LOGGING["filters"]["context"]["()"])()


def issued_tokens() -> set[str]:
    """Access and refresh tokens the emulator holds now, and those the product stores."""
    from integrations.models import GoogleConnection, WatchChannel

    found: set[str] = set()
    emulator = plugin.emulator()
    if emulator is not None:
        with emulator.app.store.lock:
            for kind in ("access_tokens", "refresh_tokens"):
                found.update(emulator.app.store.data[kind])
    for access, refresh in GoogleConnection.objects.values_list("access_token", "refresh_token"):
        found.update({access, refresh})
    found.update(WatchChannel.objects.values_list("token", flat=True))
    found.add(settings.GOOGLE_CLIENT_SECRET)
    return {token for token in found if token and len(token) >= MIN_NEEDLE}


def appointment_titles() -> set[str]:
    from calendars.models import Appointment

    return {
        title for title in Appointment.objects.values_list("title", flat=True) if len(title) >= MIN_NEEDLE
    }


def leaked(records: list[logging.LogRecord], needles: set[str]) -> list[str]:
    """Each (needle, line) where a needle appears in a formatted record."""
    plain = logging.Formatter("%(levelname)s %(name)s %(message)s")
    as_json, with_context = json_formatter(), context_filter()
    if not needles:
        return []
    pattern = re.compile("|".join(re.escape(needle) for needle in sorted(needles, key=len, reverse=True)))
    hits = []
    for record in records:
        with_context.filter(record)
        lines = plain.format(record) + "\n" + as_json.format(record)
        hits.extend(f"{match.group()!r} in: {lines[:300]}" for match in pattern.finditer(lines))
    return hits


class Guard:
    def __init__(self, caplog):
        self.caplog = caplog
        self.tokens: set[str] = set()
        self.titles: set[str] = set()

    def remember(self) -> None:
        """Note the tokens and titles that exist now (tokens revoked later vanish from the emulator)."""
        self.tokens |= issued_tokens()
        self.titles |= appointment_titles()

    def check(self) -> None:
        self.remember()
        records = self.caplog.get_records("setup") + self.caplog.get_records("call")  # runs at teardown
        hits = leaked(records, self.tokens | self.titles)
        assert not hits, f"{len(hits)} log lines leak a token or a patient name:\n" + "\n".join(hits[:10])


@pytest.fixture
def no_secrets_in_logs(caplog):
    """Fail the test if any log line of it holds a token or an appointment title."""
    caplog.set_level(logging.DEBUG)
    guard = Guard(caplog)
    yield guard
    guard.check()
