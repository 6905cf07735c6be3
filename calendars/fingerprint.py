"""What a time-grid page shows, fingerprinted in ONE query: the render cache's validity check.

The week and team views keep their rendered page per process (``calendars.page_cache``) under a
fingerprint of everything the page draws. Each part is a scalar subquery over the rows the page
reads (a superset where that is simpler: cancelled appointments too, every member of the
practice), turned into text and hashed, so any change to those rows, however it was written
(a service, ``queryset.update()``, a migration, another process) changes the fingerprint: there
is nothing to invalidate. What the book does not know (Google busy time, sync badges, connection
states) comes from the providers registered with its interfaces (``busy``, ``sync_status``,
``copilot.accounts.member_status``), each adding its own subquery (``Scope``); a provider without
one turns the cache off. What is already in memory (the signed-in user, their memberships, the
practice, the date and minute) is added by the caller (``page_cache.python_part``).

The answer is read before the page's data, so a page stored under a fingerprint is never older
than it. Row order inside a part only decides whether two identical pages hash alike (a spurious
miss at worst), never whether a change is seen.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from copilot.accounts import member_status
from copilot.accounts.models import Invitation

from . import busy, sync_status
from .models import InboxItem


def quote(name: str) -> str:
    return _quoted(connection.vendor, name)


@functools.lru_cache(maxsize=256)
def _quoted(vendor: str, name: str) -> str:
    return connection.ops.quote_name(name)


def rows_sql(columns: list[str], body: str) -> str:
    """A scalar subquery (text): the rows of ``SELECT columns body`` (``FROM ... WHERE ...``), told
    apart by their number and the sum of a 64-bit hash of each (PostgreSQL: no sort, no long string;
    a row moving in or out, or any column of it changing, changes the sum), NULL when there are none.
    Elsewhere (SQLite, in tests) the rows themselves, joined. The same text every time: memoized."""
    return _rows_sql(connection.vendor, tuple(columns), body)


@functools.lru_cache(maxsize=256)
def _rows_sql(vendor: str, columns: tuple[str, ...], body: str) -> str:
    if vendor == "postgresql":
        # Each column hashed by its type's own hash function (PostgreSQL 14+): no text formatting.
        return f"(SELECT COUNT(*) || ':' || SUM(hash_record_extended(ROW({', '.join(columns)}), 0)) {body})"
    row = " || '|' || ".join(f"COALESCE(CAST({column} AS TEXT), '')" for column in columns)
    return f"(SELECT group_concat(r, ',') FROM (SELECT {row} AS r {body}) q)"


def datetime_param(value: datetime):
    """An aware datetime as this database's driver takes it in raw SQL."""
    return connection.ops.adapt_datetimefield_value(value)


@dataclass(frozen=True)
class Scope:
    """What a page shows, for the parts of its fingerprint: the memberships whose calendars it
    draws (``members_sql``, a subquery of membership ids, with its ``members_params``), over
    [start, end), in ``practice_id``, at ``now``."""

    practice_id: int
    members_sql: str
    members_params: tuple
    start: datetime
    end: datetime
    now: datetime

    @property
    def users_sql(self) -> str:
        """A subquery of the user ids of the members shown (params: ``members_params``)."""
        return f"SELECT user_id FROM {quote('accounts_membership')} WHERE id IN ({self.members_sql})"


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    inbox_unread: int  # the top bar's counts, read in the same query: the page needs no query of its own
    open_invitations: int
    staff_ok: bool  # the week's staff member is an active member of the practice (else: 404)


M, U, P, A, T, W = (
    quote(t)
    for t in (
        "accounts_membership",
        "accounts_user",
        "calendars_participant",
        "calendars_appointment",
        "calendars_appointmenttype",
        "calendars_workinghours",
    )
)


def _book_parts(scope: Scope, *, user_id: int, staff_id: int | None, actor_id: int) -> tuple[list[str], list]:
    """The book's own parts (``_book_sql``) and their parameters."""
    cutoff = scope.now - timedelta(days=settings.INVITATION_EXPIRE_DAYS)
    start, end = datetime_param(scope.start), datetime_param(scope.end)
    params = [
        scope.practice_id,
        *scope.members_params,
        end,
        start,
        *scope.members_params,
        scope.practice_id,
        Invitation.State.PENDING.value,
        datetime_param(cutoff),
        user_id,
        staff_id if staff_id is not None else -1,
        scope.practice_id,
        actor_id,
        user_id,
    ]
    return _book_sql(connection.vendor, scope.members_sql), params


@functools.lru_cache(maxsize=16)
def _book_sql(vendor: str, members_sql: str) -> list[str]:
    """The book's own parts: its staff (names, roles: picker, tiles, badges), the appointments of the
    members shown in the range (with their type's colour), their working hours, the top bar's counts,
    for the week whether the staff member asked for may be shown, for the team its filter, and the
    viewer's own memberships with their practices (the switcher, the practice's name and zone, the
    viewer's role: what the view would otherwise read from them). The same text for every request
    of a kind (``members_sql``): built once."""
    q = quote
    mine = rows_sql(
        ["m.id", "m.practice_id", "m.role", "m.is_active", "p.name", "p.time_zone"]
        + ["p.default_appointment_minutes", "p.external_title_privacy"],
        f"FROM {M} m JOIN {q('accounts_practice')} p ON p.id = m.practice_id WHERE m.user_id = %s",
    )
    members = rows_sql(
        ["m.id", "m.is_active", "m.role", "m.user_id", "u.first_name", "u.last_name", "u.email"],
        f"FROM {M} m JOIN {U} u ON u.id = m.user_id WHERE m.practice_id = %s",
    )
    appointments = rows_sql(
        [
            *("p.member_id", "p.is_owner", f"p.{q('start')}", f"p.{q('end')}", "p.active"),
            *("a.id", "a.version", "a.title", f"a.{q('start')}", f"a.{q('end')}", "a.status"),
            *("a.has_conflict", "a.booked_online"),
            *("a.staff_id", "a.practice_id", "a.appointment_type_id", "t.colour"),
        ],
        f"FROM {P} p JOIN {A} a ON a.id = p.appointment_id LEFT JOIN {T} t ON t.id = a.appointment_type_id "
        f"WHERE p.member_id IN ({members_sql}) AND p.{q('start')} < %s AND p.{q('end')} > %s",
    )
    hours = rows_sql(
        ["w.member_id", "w.weekday", "w.start_time", "w.end_time"],
        f"FROM {W} w WHERE w.member_id IN ({members_sql})",
    )
    inbox = f"(SELECT COUNT(*) FROM {q(InboxItem._meta.db_table)} WHERE practice_id = %s AND read_at IS NULL)"
    invitations = (
        f"(SELECT COUNT(*) FROM {q('accounts_invitation')} i WHERE i.state = %s AND i.sent > %s "
        f"AND i.email IN (SELECT e.email FROM {q('account_emailaddress')} e "
        f"WHERE e.user_id = %s AND e.{q('primary')} AND e.verified))"
    )
    staff = f"(SELECT COUNT(*) FROM {M} WHERE id = %s AND practice_id = %s AND is_active)"
    preference = rows_sql(
        ["shown_member_ids"], f"FROM {q('calendars_teamviewpreference')} WHERE membership_id = %s"
    )
    return [members, appointments, hours, inbox, invitations, staff, preference, mine]


def _provider_parts(scope: Scope) -> tuple[list[str], list] | None:
    """Every registered provider's parts (each once: two providers may read the same rows), or None
    when one cannot say what it shows (the page is then not cached)."""
    parts: dict[tuple, None] = {}
    for provider in (*busy._sources, *sync_status._providers, *member_status._providers):
        version_sql = getattr(provider, "version_sql", None)
        if version_sql is None:
            return None
        for sql, params in version_sql(scope=scope):
            parts[(sql, tuple(params))] = None
    return [sql for sql, _ in parts], [param for _, params in parts for param in params]


def page_fingerprint(
    scope: Scope, *, user_id: int, actor_id: int, staff_id: int | None = None
) -> Fingerprint | None:
    """The fingerprint of a page showing ``scope`` to ``actor_id`` (user ``user_id``), in one query;
    None when a registered provider has no part to add (no caching then: every page is rendered)."""
    book, book_params = _book_parts(scope, user_id=user_id, staff_id=staff_id, actor_id=actor_id)
    providers = _provider_parts(scope)
    if providers is None:
        return None
    provider_sql, provider_params = providers
    with _cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(book + provider_sql)}", book_params + provider_params)
        row = cursor.fetchone()
    _, _, _, inbox, invitations, staff, *_ = row
    text = "\n".join(str(value) for value in row)  # every part: the counts are drawn too
    return Fingerprint(
        digest=hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        inbox_unread=inbox,
        open_invitations=invitations,
        staff_ok=bool(staff),
    )


PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


@functools.cache
def _prepared_cursor_class():
    """A psycopg cursor class binding on the server that prepares what it runs (PostgreSQL only)."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, **kwargs):
            # Django leaves psycopg's automatic preparing off (threshold None, which also refuses
            # prepare=True): on for this statement alone.
            threshold = self.connection.prepare_threshold
            self.connection.prepare_threshold = PREPARE_ONLY_WHEN_ASKED if threshold is None else threshold
            try:
                return super().execute(query, params, prepare=True)
            finally:
                self.connection.prepare_threshold = threshold

    return PreparedCursor


def _cursor():
    """A cursor for the fingerprint. On PostgreSQL a server-binding one that prepares the statement
    (psycopg, per connection): its text is the same for every week (or team) page, so it is planned
    once per connection, not per request. Through Django's wrappers: counted and logged as any query."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_prepared_cursor_class()(connection.connection))


def week_scope(*, practice_id: int, staff_id: int, start: datetime, end: datetime, now: datetime) -> Scope:
    """One member's calendar (the week or day view)."""
    return Scope(practice_id, "%s", (staff_id,), start, end, now)


def team_scope(*, practice_id: int, start: datetime, end: datetime, now: datetime) -> Scope:
    """Every member of the practice (the team views: whoever the filter shows is among them)."""
    return Scope(practice_id, f"SELECT id FROM {M} WHERE practice_id = %s", (practice_id,), start, end, now)
