"""Rendered time-grid pages kept in this process, served while their fingerprint holds.

The week and team views render the same bytes for the same data; rendering costs most of their
time. ``respond`` keeps each rendered page (per viewer, staff member, dates, span, and full page
or htmx region) in a bounded LRU of this process, with the fingerprint it was rendered under
(``calendars.fingerprint``: one query over everything the page shows, plus what is already in
memory: ``python_part``). A request whose fingerprint equals the stored one gets the stored bytes;
any other renders and replaces them. Nothing is invalidated and no process needs telling: validity
is read from the database on every request.

Per request: the CSRF token (pages are rendered with ``PLACEHOLDER`` and each response gets its own
masked token, as ``{% csrf_token %}`` would give it), and messages (a request with messages to show
is rendered and not stored). Bounded by ``PAGE_CACHE_BYTES`` per process; 0 turns the
cache off.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from copilot.accounts.middleware import SESSION_KEY
from copilot.ops.requestid import practice_var

# Stands for the CSRF token in a stored page; random per process, so no page content can hold it.
PLACEHOLDER = f"csrf{secrets.token_hex(30)}"
PLACEHOLDER_BYTES = PLACEHOLDER.encode()


class PageCache:
    """A least-recently-used map of key → (fingerprint, page bytes), at most ``limit`` bytes in all."""

    def __init__(self) -> None:
        self._pages: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, fingerprint: str) -> bytes | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] != fingerprint:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, fingerprint: str, page: bytes, limit: int) -> None:
        if len(page) > limit // 4:  # one page never pushes out most of the others
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._size -= len(old[1])
            self._pages[key] = (fingerprint, page)
            self._size += len(page)
            while self._size > limit:
                _, (_, dropped) = self._pages.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size(self) -> int:
        return self._size


PAGES = PageCache()


class Actors:
    """Whom each person was last seen as, per practice choice (``(user id, chosen practice)`` →
    their current membership with its practice), so that a stored page can be served without
    reading memberships. Only a candidate: the page's fingerprint holds the person's memberships and
    practices as the database has them, and the member and practice the candidate stands for, so a
    candidate that is no longer true finds no page, and the view reads memberships as always."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._known: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            found = self._known.get(key)
            if found is not None:
                self._known.move_to_end(key)
            return found

    def put(self, key: tuple, membership) -> None:
        with self._lock:
            self._known[key] = membership
            self._known.move_to_end(key)
            while len(self._known) > self.LIMIT:
                self._known.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()


ACTORS = Actors()


def wanted_practice(request: HttpRequest):
    """The practice the person chose in the switcher (None: the one she joined first)."""
    return request.session.get(SESSION_KEY)


def known_actor(request: HttpRequest):
    if not settings.PAGE_CACHE_BYTES or not request.user.is_authenticated:
        return None
    return ACTORS.get((request.user.pk, wanted_practice(request)))


def remember_actor(request: HttpRequest, membership) -> None:
    if settings.PAGE_CACHE_BYTES:
        ACTORS.put((request.user.pk, wanted_practice(request)), membership)


def python_part(request: HttpRequest, actor, today: date, now_minute: datetime | None) -> str:
    """What a page shows that the request already holds: the signed-in person's names, the member
    and practice the page is drawn for (the database's part holds their rows), and the date (with
    the minute when today is on the page: the "now" line and the dimmed past move with it)."""
    user = request.user
    return repr(
        (
            (user.pk, user.first_name, user.last_name, user.email),
            (actor.pk, actor.practice_id, actor.practice.time_zone),
            today,
            now_minute,
        )
    )


def _servable(request: HttpRequest, fingerprint: str | None) -> int:
    """The cache's size limit when this response may come from (and go to) it, else 0."""
    limit = settings.PAGE_CACHE_BYTES
    if fingerprint is None or not limit or len(get_messages(request)):
        return 0
    return limit


def _answer(request: HttpRequest, page: bytes) -> HttpResponse:
    return HttpResponse(page.replace(PLACEHOLDER_BYTES, get_token(request).encode()))


def stored(request: HttpRequest, key: Hashable, fingerprint: str | None, actor) -> HttpResponse | None:
    """The stored page for ``key`` while ``fingerprint`` holds, drawn for ``actor``; else None."""
    if not _servable(request, fingerprint):
        return None
    page = PAGES.get(key, fingerprint)
    if page is None:
        return None
    practice_var.set(actor.practice_id)  # the log lines of this request name the practice, as always
    return _answer(request, page)


def respond(
    request: HttpRequest, key: Hashable, fingerprint: str | None, render: Callable[[str | None], str]
) -> HttpResponse:
    """The page for ``key``: stored bytes while ``fingerprint`` holds, else ``render(csrf_token)``.

    ``render`` draws the page with the CSRF token it is given (None: the request's own). With no
    fingerprint (a provider that cannot say what it shows), or messages to show, the page is
    rendered for this request alone.
    """
    limit = _servable(request, fingerprint)
    if not limit:
        return HttpResponse(render(None))
    page = PAGES.get(key, fingerprint)
    if page is None:
        page = render(PLACEHOLDER).encode()  # stored as the bytes sent: no encoding per answer
        PAGES.put(key, fingerprint, page, limit)
    return _answer(request, page)
