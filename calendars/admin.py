from django.contrib import admin

from .models import Appointment, AppointmentChange, WorkingHours


class AppointmentChangeInline(admin.TabularInline):
    model = AppointmentChange
    extra = 0
    can_delete = False
    readonly_fields = ("at", "actor", "source", "action", "summary")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("title", "practice", "staff", "start", "end", "status", "has_conflict", "version")
    list_filter = ("practice", "status", "has_conflict", ("start", admin.DateFieldListFilter), "staff")
    search_fields = ("title", "location", "notes", "staff__user__email", "practice__name")
    date_hierarchy = "start"
    raw_id_fields = ("staff", "created_by")
    filter_horizontal = ("assignees",)
    readonly_fields = ("created", "updated", "version")
    inlines = [AppointmentChangeInline]
    list_select_related = ("practice", "staff__user")


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ("member", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "member__practice")
    search_fields = ("member__user__email",)
    raw_id_fields = ("member",)
