"""Google push notifications: channels on calendars, and what a notification may do.

``events.watch`` opens a channel per selected readable calendar with a random id and token;
channels are renewed before they expire and stopped when a calendar stops being selected (and on
unlink). A notification only ever enqueues a debounced incremental pull of its calendar, and only
when its channel token matches (checked in constant time). Without a public HTTPS address
(``PUBLIC_BASE_URL``) there are no channels and polling alone brings Google's changes.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from .. import queue, services
from ..models import GoogleCalendar, GoogleConnection, WatchChannel
from . import client
from .events import number_from_digits

logger = logging.getLogger(__name__)

PULL_FLAG_STALE = timedelta(minutes=5)  # a queued-pull flag older than this is ignored
# A calendar's poll renews its channel once it expires within a day, so renewals follow the polls'
# spread. The hourly job only renews what no poll did (a connection backing off for half a day).
RENEW_BEFORE = timedelta(days=1)
RENEW_BEFORE_HOURLY = RENEW_BEFORE / 2


def webhook_address() -> str:
    """Where Google should post notifications ("" when no public address is configured)."""
    base = settings.PUBLIC_BASE_URL
    return base.rstrip("/") + reverse("google_webhook") if base else ""


def push_notifications_note() -> str | None:
    """What the Connections tab says about push notifications, or None when they are on."""
    base = settings.PUBLIC_BASE_URL
    minutes = settings.GOOGLE_POLL_MINUTES
    if not base:
        return (
            "Push notifications are off: no public HTTPS address is configured; "
            f"changes from Google arrive by polling every {minutes} minutes."
        )
    if not base.startswith("https://") and not settings.GOOGLE_EMULATOR_URL:
        return (
            f"Push notifications need an HTTPS address; {base} is not one, so Google will refuse "
            f"them and changes arrive by polling every {minutes} minutes."
        )
    return None


def _expiration(answer: dict) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(answer["expiration"]) / 1000, tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def channel_ttl_seconds() -> int:
    """``GOOGLE_CHANNEL_TTL_SECONDS`` less up to an eighth (21 h of a week), at random: channels
    opened together (a deploy, a mass connect) expire, and the hourly job renews them, over hours."""
    ttl = settings.GOOGLE_CHANNEL_TTL_SECONDS
    return ttl - secrets.randbelow(ttl // 8 + 1)


def open_channel(session: client.GoogleSession, calendar: GoogleCalendar) -> WatchChannel | None:
    """Watch ``calendar``'s events with a fresh random channel id and token. Raises ``client.GoogleError``."""
    address = webhook_address()
    if not address or not calendar.can_list_events:
        return None
    # Saved before the watch call: Google's first message may arrive before the answer does.
    channel = WatchChannel.objects.create(
        calendar=calendar, channel_id=secrets.token_urlsafe(24), token=secrets.token_urlsafe(32)
    )
    ttl = channel_ttl_seconds()
    try:
        answer = session.watch(
            calendar.calendar_id,
            channel_id=channel.channel_id,
            token=channel.token,
            address=address,
            ttl_seconds=ttl,
        )
    except client.GoogleError:
        channel.delete()
        raise
    channel.resource_id = str(answer.get("resourceId", ""))[:255]
    channel.expiration = _expiration(answer) or timezone.now() + timedelta(seconds=ttl)
    channel.save(update_fields=["resource_id", "expiration"])
    return channel


def ensure_channel(session: client.GoogleSession, calendar: GoogleCalendar) -> WatchChannel | None:
    """Open a channel on a selected readable calendar that has no live one (None if not needed)."""
    if not calendar.is_selected or not calendar.can_list_events or not webhook_address():
        return None
    lasting = calendar.channels.filter(stopped_at__isnull=True, expiration__gt=timezone.now() + RENEW_BEFORE)
    if lasting.exists():
        return None
    return open_channel(session, calendar)


def _stop(session: client.GoogleSession | None, channels: list[WatchChannel]) -> None:
    for channel in channels:
        if session is not None and channel.resource_id:
            try:
                session.stop_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)
            except client.GoogleError as error:  # best effort: it expires on its own
                logger.info("Stopping channel %s failed: %s", channel.pk, error)
    WatchChannel.objects.filter(pk__in=[c.pk for c in channels]).update(stopped_at=timezone.now())


def stop_channels_for(calendar: GoogleCalendar, *, connection: GoogleConnection | None = None) -> int:
    """Stop the live channels on ``calendar`` (it is no longer selected). Returns how many."""
    channels = list(calendar.channels.filter(stopped_at__isnull=True))
    if not channels:
        return 0
    connection = connection or calendar.connection
    session = services.open_session(connection) if connection.can_call_google else None
    _stop(session, channels)
    return len(channels)


def live_channel_expiry() -> Subquery:
    """The soonest expiration of a calendar's live channels, as an annotation of ``GoogleCalendar``
    (the poll reads it with the calendars, no query of its own)."""
    return Subquery(
        WatchChannel.objects.filter(calendar=OuterRef("pk"), stopped_at__isnull=True)
        .order_by("expiration")
        .values("expiration")[:1]
    )


def renew_channel_when_due(session: client.GoogleSession, calendar: GoogleCalendar) -> bool:
    """In the calendar's poll: replace its live channel if it expires within ``RENEW_BEFORE``.

    ``calendar.channel_expires`` comes from ``live_channel_expiry``. The polls of 10,000 calendars
    are spread over the poll interval and channel lifetimes are jittered, so renewals are spread
    too, instead of an hourly job renewing an hour's worth at once. Raises ``client.GoogleError``.
    """
    expires = getattr(calendar, "channel_expires", None)
    if expires is None or expires >= timezone.now() + RENEW_BEFORE:
        return False
    old = list(calendar.channels.filter(stopped_at__isnull=True))
    renewed = calendar.is_selected and open_channel(session, calendar) is not None
    _stop(session, old)
    return renewed


def renew_expiring_channels(channel_pks: Iterable[int] | None = None) -> int:
    """Replace live channels that expire within half a day (or the given ones) with new channels.

    Scheduled hourly, as a safety net: polls renew channels a day ahead (``renew_channel_when_due``),
    so this finds only those of connections no poll reached. The Django admin's "renew channel"
    passes ``channel_pks``. Returns how many channels were replaced.
    """
    live = WatchChannel.objects.filter(stopped_at__isnull=True).select_related("calendar__connection")
    if channel_pks is None:
        live = live.filter(
            Q(expiration__isnull=True) | Q(expiration__lt=timezone.now() + RENEW_BEFORE_HOURLY)
        )
    else:
        live = live.filter(pk__in=list(channel_pks))
    by_connection: dict[int, list[WatchChannel]] = {}
    for channel in live:
        by_connection.setdefault(channel.calendar.connection_id, []).append(channel)
    renewed = 0
    for channels in by_connection.values():
        connection = channels[0].calendar.connection
        if services.connection_unusable_reason(connection):
            continue
        session = services.open_session(connection)
        try:
            for channel in channels:
                if channel.calendar.is_selected and open_channel(session, channel.calendar):
                    renewed += 1
                _stop(session, [channel])
        except client.GoogleError as error:
            services.connection_record_failure(connection=connection, error=error)
    return renewed


def request_pull(calendar_pk: int) -> bool:
    """Enqueue an incremental pull of the calendar unless one is already queued (debounce).

    Returns True when this call enqueued it. The pull clears the flag when it starts, so a
    change that lands during a pull gets a pull of its own; a flag left by a lost task expires.
    """
    now = timezone.now()
    claimed = (
        GoogleCalendar.objects.filter(pk=calendar_pk)
        .filter(Q(pull_queued_at__isnull=True) | Q(pull_queued_at__lt=now - PULL_FLAG_STALE))
        .update(pull_queued_at=now)
    )
    if claimed:
        queue.enqueue_pull(calendar_pk)
    return bool(claimed)


def receive_notification(
    *, channel_id: str, token: str, resource_state: str, resource_id: str = "", message_number: str = ""
) -> str:
    """Handle one push notification's headers. Returns what was done (for logs and tests).

    Anything that is not a valid ``exists`` message on a live channel of ours changes nothing; a
    valid one only ever requests the debounced incremental pull, whatever its message number.
    """
    channel = (
        WatchChannel.objects.select_related("calendar").filter(channel_id=channel_id).first()
        if channel_id
        else None
    )
    if channel is None:
        logger.info("Google notification for an unknown channel %.64r", channel_id)
        return "unknown_channel"
    if not token or not hmac.compare_digest(token.encode(), channel.token.encode()):
        logger.warning("Google notification with a wrong token for channel %s", channel.pk)
        return "bad_token"
    if not channel.is_active:
        logger.info("Google notification for stopped or expired channel %s", channel.pk)
        return "inactive_channel"
    if channel.resource_id and resource_id and resource_id != channel.resource_id:
        logger.warning("Google notification for channel %s names another resource", channel.pk)
        return "bad_resource"
    # Message numbers are kept for diagnostics only. They never decide whether a notification is
    # heard: anyone holding the token could otherwise send a huge number once and make every real
    # later notification look like a replay. The pull is idempotent and debounced, so a replayed
    # message costs at most one incremental pull (and the webhook is rate-limited per channel).
    number = number_from_digits(message_number, max_digits=18)  # fits a BigIntegerField
    if number is not None and number != channel.last_message_number:
        WatchChannel.objects.filter(pk=channel.pk).update(last_message_number=number)
    if resource_state == "sync":
        return "sync"
    if resource_state not in ("exists", "not_exists"):
        logger.info("Google notification with state %.32r ignored", resource_state)
        return "ignored"
    if not channel.calendar.is_selected:
        return "not_selected"
    return "queued" if request_pull(channel.calendar_id) else "debounced"
