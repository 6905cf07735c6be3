"""Google connections and the sync state the portal shows.

A connection belongs to one user (their profile), never to a practice. Its calendars are
the ones the user picked: exactly one linked calendar per user (written to) and any number
of conflict calendars (read for busy time). Every appointment has one ``EventLink`` per
staff member whose calendar should show it: that row is the durable outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from calendars.models import Appointment
from copilot.accounts.models import Membership

from .fields import EncryptedTextField


class GoogleConnection(models.Model):
    class State(models.TextChoices):
        SETUP = "setup", "Choose a calendar"
        ACTIVE = "active", "Active"
        MISSING_PERMISSIONS = "missing_permissions", "Missing permissions"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        UNLINKED = "unlinked", "Unlinked"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="google_connections"
    )
    social_account = models.OneToOneField(
        "socialaccount.SocialAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="google_connection",
    )
    google_uid = models.CharField(max_length=255, help_text="Google's stable account id (sub).")
    google_email = models.EmailField()
    state = models.CharField(max_length=24, choices=State.choices, default=State.SETUP)
    state_changed_at = models.DateTimeField(default=timezone.now)
    granted_scopes = models.TextField(blank=True, help_text="Space-separated, as Google reported them.")
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_expiry = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True, help_text="Last successful sync.")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    push_lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is pushing this connection's outbox until then."
    )
    retry_after = models.DateTimeField(null=True, blank=True, help_text="Backoff: no Google calls before.")
    reconnect_email_sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    unlinked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "google_uid"],
                condition=~Q(state="unlinked"),
                name="one_live_connection_per_google_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.google_email} ({self.get_state_display()})"

    @property
    def scopes(self) -> set[str]:
        return set(self.granted_scopes.split())

    @property
    def is_live(self) -> bool:
        return self.state != self.State.UNLINKED

    @property
    def can_call_google(self) -> bool:
        return self.state in {self.State.ACTIVE, self.State.SETUP}


class GoogleCalendar(models.Model):
    """A calendar of a connected Google account, as its calendar list last showed it."""

    class AccessRole(models.TextChoices):
        FREE_BUSY_READER = "freeBusyReader", "Free/busy only"
        READER = "reader", "Read only"
        WRITER = "writer", "Read and write"
        OWNER = "owner", "Owner"

    WRITABLE_ROLES = {AccessRole.WRITER, AccessRole.OWNER}

    connection = models.ForeignKey(GoogleConnection, on_delete=models.CASCADE, related_name="calendars")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    calendar_id = models.CharField(max_length=1024)
    summary = models.CharField(max_length=500, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    access_role = models.CharField(max_length=16, choices=AccessRole.choices)
    is_primary = models.BooleanField(default=False)
    is_linked = models.BooleanField(default=False)
    is_conflict = models.BooleanField(default=False)
    sync_token = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    busy_refreshed_at = models.DateTimeField(null=True, blank=True)
    has_busy_snapshots = models.BooleanField(
        default=False, editable=False, help_text="Free/busy snapshots stored since the last pull (to sweep)."
    )
    busy_version = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Bumped with every write of this calendar's busy blocks (cache keys).",
    )
    pull_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while an incremental pull is queued (debounces notifications)."
    )

    class Meta:
        ordering = ["-is_linked", "-is_primary", "summary"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "calendar_id"], name="calendar_once_per_connection"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_linked=True), name="one_linked_calendar_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.summary or self.calendar_id

    @property
    def is_writable(self) -> bool:
        return self.access_role in self.WRITABLE_ROLES

    @property
    def can_list_events(self) -> bool:
        return self.access_role != self.AccessRole.FREE_BUSY_READER

    @property
    def is_selected(self) -> bool:
        return self.is_linked or self.is_conflict


class EventLink(models.Model):
    """The outbox row for one appointment in one staff member's linked Google calendar.

    ``needs_push`` is set in the transaction that changed the appointment; the worker
    reconciles Google to the appointment's current state and clears it.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Synced"
        WAITING = "waiting", "Waiting for a connection"
        FAILED = "failed", "Failed"
        DETACHED = "detached", "Not synced (unlinked)"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="event_links")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="event_links")
    calendar = models.ForeignKey(
        GoogleCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="event_links",
        help_text="The calendar the event was written to (kept across a switch of linked calendar).",
    )
    event_id = models.CharField(max_length=1024, blank=True)
    etag = models.CharField(max_length=255, blank=True)
    pushed_hash = models.CharField(max_length=64, blank=True)
    generation = models.PositiveSmallIntegerField(
        default=0, help_text="Bumped when Google deleted our event and its id cannot be reused."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    needs_push = models.BooleanField(default=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["appointment", "member"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "member"], name="one_link_per_member"),
        ]
        # Only the outbox is ever looked up by ``needs_push``: a partial index holds just the due
        # links, so the every-minute drain and the backlog gauge read the backlog, not every copy.
        indexes = [models.Index(fields=["member"], condition=Q(needs_push=True), name="eventlink_due")]

    def __str__(self) -> str:
        return f"{self.appointment} → {self.calendar or 'no calendar'} ({self.state})"


# Blocks up to this long are "short": a window's short blocks all start within this much before it,
# so reading [start, end) is one index range scan whatever the calendar holds. Longer blocks
# (multi-day holidays) are flagged ``is_long`` and read by a second, tiny scan of their own.
SHORT_BLOCK_MAX = timedelta(hours=36)


class BusyBlockQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for block in objs:
            block.is_long = block.end - block.start > SHORT_BLOCK_MAX
        return super().bulk_create(objs, *args, **kwargs)


class BusyBlock(models.Model):
    """Time taken in a linked or conflict calendar by an event that is not one of ours.

    ``is_long`` is derived from the block's own bounds (set by ``save`` and ``bulk_create``):
    ``start > window_start - SHORT_BLOCK_MAX`` then bounds every short block that overlaps a window,
    which makes an interval read a range scan of the ``(calendar, is_long, start)`` index.
    """

    calendar = models.ForeignKey(GoogleCalendar, on_delete=models.CASCADE, related_name="busy_blocks")
    event_id = models.CharField(max_length=1024, blank=True, help_text="Empty for free/busy-only data.")
    start = models.DateTimeField()
    end = models.DateTimeField()
    summary = models.CharField(max_length=300, blank=True)
    is_private = models.BooleanField(default=False)
    practice_tag = models.CharField(
        max_length=32, blank=True, help_text="Set when the event is another practice's appointment of ours."
    )
    is_long = models.BooleanField(default=False, editable=False)

    objects = BusyBlockQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["calendar", "is_long", "start"], name="busyblock_calendar_long_start"),
            # Free/busy snapshots (no event id) are swept after each pull: found without a scan.
            models.Index(fields=["calendar"], condition=Q(event_id=""), name="busyblock_snapshots"),
        ]
        constraints = [
            # An event is busy time once per calendar (free/busy-only data has no event id).
            models.UniqueConstraint(
                fields=["calendar", "event_id"], condition=~Q(event_id=""), name="busy_block_once_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.summary or 'Busy'} {self.start:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        self.is_long = self.end - self.start > SHORT_BLOCK_MAX
        super().save(*args, **kwargs)

    @staticmethod
    def mark_changed(calendar_pk: int, **fields) -> int:
        """Bump ``busy_version`` of a calendar whose blocks were just written (and set ``fields``)."""
        return GoogleCalendar.objects.filter(pk=calendar_pk).update(
            busy_version=models.F("busy_version") + 1, **fields
        )

    @classmethod
    def overlapping(cls, calendar_ids, start: datetime, end: datetime) -> models.QuerySet:
        """Blocks of ``calendar_ids`` overlapping [start, end): index range scans, not the whole calendar.

        Short blocks start in [start - SHORT_BLOCK_MAX, end); long ones are few (read apart).
        """
        # The calendars are named inside each branch, so each is a seek on the whole index (SQLite's
        # OR optimization and PostgreSQL's BitmapOr both need the index's first column per branch).
        # ``is_long__in`` because ``is_long=False`` renders as ``NOT is_long`` on SQLite: no index seek.
        ids = list(calendar_ids)
        short = Q(calendar_id__in=ids, is_long__in=[False], start__gte=start - SHORT_BLOCK_MAX, start__lt=end)
        long = Q(calendar_id__in=ids, is_long__in=[True], start__lt=end)
        return cls.objects.filter(short | long, end__gt=start)


class WatchChannel(models.Model):
    """A Google push-notification channel on one calendar."""

    calendar = models.ForeignKey(GoogleCalendar, on_delete=models.CASCADE, related_name="channels")
    channel_id = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    resource_id = models.CharField(max_length=255, blank=True)
    expiration = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    last_message_number = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.channel_id} on {self.calendar}"

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None and (self.expiration is None or self.expiration > timezone.now())
