"""Django admin for the Google integration: read-only views of sync state, with repair actions."""

from __future__ import annotations

from django.contrib import admin, messages

from .google import pull
from .models import BusyBlock, WatchChannel

# --- Inbound sync: busy time and push channels (pull side) -----------------------------------------


class _ReadOnly(admin.ModelAdmin):
    """Rows the sync engine owns: people look and use the actions, never edit."""

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
        renewed = pull.renew_expiring_channels(queryset.values_list("pk", flat=True))
        level = messages.SUCCESS if renewed else messages.WARNING
        self.message_user(request, f"Renewed {renewed} of {queryset.count()} channel(s).", level)

    @admin.action(description="Force full resync of these channels' calendars")
    def force_full_resync(self, request, queryset) -> None:
        _resync(self, request, queryset.values_list("calendar_id", flat=True))


# --- End of the pull side's section -----------------------------------------------------------------
