"""Django admin for the Google integration: read-only views of sync state, with repair actions.

Superusers only: busy blocks and event links carry appointment data of every practice.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin, messages

from copilot.admin_access import SuperuserOnly

from . import services
from .google import channels, outbox, pull
from .models import BusyBlock, EventLink, GoogleCalendar, GoogleConnection, WatchChannel
from .selectors import connection_backlog
from .words import connection_health, words_for

# --- Inbound sync: busy time and push channels (pull side) -----------------------------------------


class _ReadOnly(SuperuserOnly, admin.ModelAdmin):
    """Rows the sync engine owns: superusers look and use the actions, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _resync(modeladmin, request, calendar_pks) -> None:
    count = pull.force_full_resync(set(calendar_pks))
    modeladmin.message_user(
        request, f"Full resync queued for {count} calendar(s): tokens dropped, busy time is rebuilt."
    )


@admin.register(BusyBlock)
class BusyBlockAdmin(_ReadOnly):
    list_display = ("start", "end", "summary", "is_private", "practice_tag", "calendar", "event_id")
    list_filter = ("is_private", "calendar__connection__state")
    list_select_related = ("calendar",)
    search_fields = ("calendar__summary", "calendar__connection__google_email", "event_id")
    date_hierarchy = "start"
    actions = ["force_full_resync"]

    @admin.action(description="Force full resync of these blocks' calendars")
    def force_full_resync(self, request, queryset) -> None:
        _resync(self, request, queryset.values_list("calendar_id", flat=True))


@admin.register(WatchChannel)
class WatchChannelAdmin(_ReadOnly):
    list_display = ("channel_id", "calendar", "expiration", "stopped_at", "last_message_number", "created")
    list_filter = ("stopped_at",)
    list_select_related = ("calendar",)
    search_fields = ("channel_id", "calendar__summary", "calendar__connection__google_email")
    exclude = ("token",)  # the channel's secret stays out of pages
    actions = ["renew_channel", "force_full_resync"]

    @admin.action(description="Renew channel (open a new one, stop this one)")
    def renew_channel(self, request, queryset) -> None:
        renewed = channels.renew_expiring_channels(queryset.values_list("pk", flat=True))
        level = messages.SUCCESS if renewed else messages.WARNING
        self.message_user(request, f"Renewed {renewed} of {queryset.count()} channel(s).", level)

    @admin.action(description="Force full resync of these channels' calendars")
    def force_full_resync(self, request, queryset) -> None:
        _resync(self, request, queryset.values_list("calendar_id", flat=True))


# --- End of the pull side's section -----------------------------------------------------------------


# --- Connections and the push outbox ----------------------------------------------------------------


class CalendarInline(SuperuserOnly, admin.TabularInline):
    model = GoogleCalendar
    extra = 0
    can_delete = False
    fields = (
        "summary",
        "calendar_id",
        "access_role",
        "is_primary",
        "is_linked",
        "is_conflict",
        "last_synced_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GoogleConnection)
class GoogleConnectionAdmin(_ReadOnly):
    list_display = ("google_email", "user", "health", "last_sync_at", "failure_count", "error")
    list_filter = ("state",)
    search_fields = ("google_email", "user__email")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "google_email",
        "google_uid",
        "state",
        "state_changed_at",
        "granted_scopes",
        "missing",
        "token_expiry",
        "last_sync_at",
        "last_error",
        "last_error_at",
        "failure_count",
        "retry_after",
        "reconnect_email_sent_at",
        "backlog",
        "created",
        "unlinked_at",
    )
    exclude = ("access_token", "refresh_token", "social_account", "push_lease_until")
    inlines = [CalendarInline]
    actions = ["sync_now", "recheck_scopes", "disconnect"]

    @admin.display(description="State", ordering="state")
    def health(self, obj) -> str:
        """The state in the words people read in the portal (integrations/words.py), whole."""
        return words_for(connection_health(obj)).label

    @admin.display(description="Last error")
    def error(self, obj) -> str:
        return obj.last_error  # whole: the admin's table wraps it

    @admin.action(description="Sync now (drop the backoff, push what waits, pull)")
    def sync_now(self, request, queryset) -> None:
        started = [c for c in queryset if services.connection_sync_now(connection=c)]
        refused = queryset.count() - len(started)
        self.message_user(request, f"Syncing {len(started)} connection(s) now.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} connection(s) cannot sync until their person reconnects or chooses a calendar.",
                messages.WARNING,
            )

    @admin.display(description="Missing scopes")
    def missing(self, obj) -> str:
        return ", ".join(services.missing_scopes(obj)) or "none"

    @admin.display(description="Waiting changes")
    def backlog(self, obj) -> int:
        return connection_backlog(connection=obj)

    @admin.action(description="Re-check scopes and token health now")
    def recheck_scopes(self, request, queryset) -> None:
        states = [services.connection_check_health(connection=c).state for c in queryset]
        self.message_user(request, f"Checked {len(states)} connection(s): {', '.join(states)}.")

    @admin.action(description="Disconnect (stop sync, revoke, keep appointments and Google events)")
    def disconnect(self, request, queryset) -> None:
        for connection in queryset:
            services.connection_unlink(connection=connection)
        self.message_user(request, f"Disconnected {queryset.count()} connection(s).", messages.SUCCESS)


@admin.register(EventLink)
class EventLinkAdmin(_ReadOnly):
    list_display = ("appointment", "member", "calendar", "event_id", "state", "needs_push", "error")
    list_filter = ("state", "needs_push")
    search_fields = ("event_id", "appointment__title", "member__user__email")
    list_select_related = ("appointment", "member__user", "calendar")
    readonly_fields = (
        "appointment",
        "member",
        "calendar",
        "event_id",
        "etag",
        "pushed_hash",
        "generation",
        "state",
        "needs_push",
        "last_error",
        "attempts",
        "last_pushed_at",
        "updated",
    )
    actions = ["retry_failed"]

    @admin.display(description="Last error")
    def error(self, obj) -> str:
        return obj.last_error  # whole: the admin's table wraps it

    @admin.action(description="Retry failed pushes")
    def retry_failed(self, request, queryset) -> None:
        count = outbox.retry_failed(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed push(es) queued again.")


# --- allauth's models: no tokens shown, no Google account removed behind Unlink's back ------------

# Tokens are never stored in allauth's table (SOCIALACCOUNT_STORE_TOKENS is off); there is nothing
# to show, and a page that once listed plaintext tokens should not come back with an upgrade.
if admin.site.is_registered(SocialToken):
    admin.site.unregister(SocialToken)
if admin.site.is_registered(SocialAccount):
    admin.site.unregister(SocialAccount)
# The Google client id and secret come from the environment (settings), never from a table.
if admin.site.is_registered(SocialApp):
    admin.site.unregister(SocialApp)


@admin.register(SocialAccount)
class SocialAccountAdmin(_ReadOnly):
    """Look only: removing a Google account is the connection's Disconnect action (our Unlink)."""

    list_display = ("user", "provider", "uid")
    list_filter = ("provider",)
    search_fields = ("uid", "user__email")
    exclude = ("extra_data",)
