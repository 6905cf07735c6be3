"""Django admin for the book: superusers only, and read-only where the booking rules apply.

An appointment's time, staff, status and text change only through the services (rules, history,
version, Google outbox): the portal for moves and edits, the admin's "Cancel" action for
cancelling. The admin never adds or deletes appointments, so nothing it does bypasses sync.
Appointment titles are patient names: only superusers see this admin, whatever permissions a
staff account was given.
"""

from __future__ import annotations

from datetime import UTC

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html_join

from copilot.admin_access import SuperuserOnly

from .models import Appointment, AppointmentChange, AppointmentType, WorkingHours
from .services import Source, appointment_cancel
from .sync_status import attach_badges
from .timezones import format_local_range


class AppointmentChangeInline(SuperuserOnly, admin.TabularInline):
    model = AppointmentChange
    extra = 0
    can_delete = False
    readonly_fields = ("at", "actor", "source", "action", "summary")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AppointmentChangeList(ChangeList):
    """The change list's page of appointments, with every calendar copy's sync state read for the
    whole page at once (the book's sync-status interface: one query, not one per row)."""

    def get_results(self, request) -> None:
        super().get_results(request)
        self.result_list = attach_badges(self.result_list)


@admin.register(Appointment)
class AppointmentAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = (
        "title",
        "practice",
        "staff",
        "local_time",
        "utc_start",
        "status",
        "has_conflict",
        "copies",
        "version",
    )
    list_filter = ("practice", "status", "has_conflict", ("start", admin.DateFieldListFilter), "staff")
    search_fields = ("title", "location", "notes", "staff__user__email", "practice__name")
    date_hierarchy = "start"
    fields = (
        "practice",
        "staff",
        "assignees",
        "title",
        "local_time",
        "start",
        "end",
        "location",
        "notes",
        "status",
        "has_conflict",
        "created_by",
        "created",
        "updated",
        "version",
        "copies",
    )
    readonly_fields = fields  # changes go through the services: the portal, or the actions below
    inlines = [AppointmentChangeInline]
    list_select_related = ("practice", "staff__user", "staff__practice")
    actions = ["cancel_appointments"]

    def get_changelist(self, request, **kwargs):
        return AppointmentChangeList

    @admin.display(description="When (practice's zone)", ordering="start")
    def local_time(self, obj: Appointment) -> str:
        """What the front desk reads: the practice's wall clock, with its zone."""
        zone = obj.practice.zone
        return f"{format_local_range(obj.start, obj.end, zone)} ({zone.key})"

    @admin.display(description="Start (UTC)", ordering="start")
    def utc_start(self, obj: Appointment) -> str:
        return f"{obj.start.astimezone(UTC):%Y-%m-%d %H:%M} UTC"

    @admin.display(description="Calendar copies")
    def copies(self, obj: Appointment) -> str:
        lines = getattr(obj, "sync_lines", None)
        if lines is None:  # outside the change list (one appointment): read it now
            [obj] = attach_badges([obj])
            lines = obj.sync_lines
        return format_html_join("", '<div class="sync-line">{}</div>', ((line,) for line in lines)) or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancelling keeps the history and reaches Google; deleting would do neither

    @admin.action(description="Cancel selected appointments (history kept, Google updated)")
    def cancel_appointments(self, request, queryset) -> None:
        cancelled = 0
        for appointment in queryset.filter(status=Appointment.Status.BOOKED):
            appointment_cancel(
                appointment=appointment, actor=request.user, source=Source.ADMIN, reason="Cancelled in admin"
            )
            cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} appointment(s).", messages.SUCCESS)


@admin.register(WorkingHours)
class WorkingHoursAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("member", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "member__practice")
    search_fields = ("member__user__email",)
    raw_id_fields = ("member",)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("name", "practice", "duration_minutes", "bookable_online", "is_active")
    list_filter = ("practice", "bookable_online")
    filter_horizontal = ("staff",)
