"""Django admin for practices, people and invitations: superusers only (they span every practice).

allauth's email addresses and django-q's queued and finished tasks (queued email carries
invitation and password-reset links) are superusers-only too.
"""

from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_q.models import Failure, OrmQ, Schedule, Success

from copilot.admin_access import SuperuserOnly, superusers_only

from .models import Invitation, Membership, Practice, User


class MembershipInline(SuperuserOnly, admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Practice)
class PracticeAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "default_appointment_minutes", "external_title_privacy")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("user", "practice", "role", "is_active", "created")
    list_filter = ("role", "is_active", "practice")
    search_fields = ("user__email", "user__first_name", "user__last_name", "practice__name")
    raw_id_fields = ("user",)


@admin.register(Invitation)
class InvitationAdmin(SuperuserOnly, admin.ModelAdmin):
    """Read-only: invitations change through the Team page and the invited person's answer."""

    list_display = ("email", "practice", "role", "state", "sent", "responded")
    list_filter = ("state", "role", "practice")
    search_fields = ("email", "practice__name")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(SuperuserOnly, BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


superusers_only(EmailAddress, Schedule, Success, Failure, OrmQ)
