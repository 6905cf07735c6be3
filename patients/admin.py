from django.contrib import admin

from copilot.admin_access import SuperuserOnly

from .models import Patient


@admin.register(Patient)
class PatientAdmin(SuperuserOnly, admin.ModelAdmin):  # patient data: superusers only
    list_display = ("name", "practice", "email", "phone")
    list_filter = ("practice",)
    search_fields = ("name", "email", "phone_digits")
    list_select_related = ("practice",)
    raw_id_fields = ("practice",)
