"""How other apps hear that what staff calendars show of a practice's appointments has changed.

The practice's privacy setting (full title / type only / Busy) decides what every staff member's
Google calendar shows. Accounts knows nothing of Google: the integrations app registers a listener
here that puts the practice's upcoming appointments back in its outbox, so the next push rewrites
them. Explicit registration, as in ``calendars.hooks``; called inside the writing transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Practice

DisplayListener = Callable[[Practice], None]

_listeners: list[DisplayListener] = []


def register_display_listener(listener: DisplayListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def practice_display_changed(practice: Practice) -> None:
    """Tell listeners that staff calendars should show ``practice``'s appointments differently now."""
    for listener in _listeners:
        listener(practice)
