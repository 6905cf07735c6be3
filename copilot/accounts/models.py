"""People and practices: who may see and change what."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA time zone such as Europe/Berlin.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who logs in with an email address. ``is_staff`` means Django admin access."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Practice(models.Model):
    """A sub-account: one medical or dental practice with its own staff and book."""

    class TitlePrivacy(models.TextChoices):
        FULL = "full", "Show appointment titles in staff calendars"
        TYPE = "type", "Show only the appointment type (“Check-up”), no patient name"
        BUSY = "busy", "Show only “Busy — appointment” in staff calendars"

    class CancelBehaviour(models.TextChoices):
        DELETE = "delete", "Delete the event"
        MARK = "mark", "Keep the event, marked cancelled"

    class GoogleDeletion(models.TextChoices):
        PUT_BACK = "put_back", "A deletion in Google is undone: the event is put back, the front desk told"
        CANCEL = "cancel", "A deletion in Google cancels the appointment"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA time zone"
    )
    default_appointment_minutes = models.PositiveSmallIntegerField(default=30)
    external_title_privacy = models.CharField(
        max_length=8,
        choices=TitlePrivacy.choices,
        default=TitlePrivacy.TYPE,
        help_text="What staff members' Google calendars show of an appointment. New practices start on "
        "“type only”: patient names never reach staff members' Google accounts.",
    )
    external_cancel_behaviour = models.CharField(
        max_length=8, choices=CancelBehaviour.choices, default=CancelBehaviour.DELETE
    )
    online_booking_enabled = models.BooleanField(
        "online booking", default=False, help_text="Patients can book themselves at /book/<practice>/."
    )
    google_deletion = models.CharField(
        "when an event is deleted in Google",
        max_length=8,
        choices=GoogleDeletion.choices,
        default=GoogleDeletion.PUT_BACK,
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Membership(models.Model):
    """A user's place in a practice. A staff member of the book is a membership."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Practice admin"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.STAFF)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice", "user__first_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="one_membership_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.user.display_name} ({self.practice})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.user.display_name


class Invitation(models.Model):
    """An offer to join a practice, made to an email address.

    Someone who already has an account joins only when she accepts, signed in with that address
    verified; until then the practice sees the invitation, never her. ``sent`` is when the last
    email went out: the link expires ``INVITATION_EXPIRE_DAYS`` after it.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=8, choices=Membership.Role.choices, default=Membership.Role.STAFF)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        help_text="Who accepted (or the account created for a new person).",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    created = models.DateTimeField(default=timezone.now)
    sent = models.DateTimeField(default=timezone.now)
    responded = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "email"],
                condition=models.Q(state="pending"),
                name="one_pending_invitation_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.practice} ({self.get_state_display()})"

    @property
    def expires(self):
        return self.sent + timedelta(days=settings.INVITATION_EXPIRE_DAYS)

    @property
    def is_expired(self) -> bool:
        return self.state == self.State.PENDING and timezone.now() >= self.expires

    @property
    def is_open(self) -> bool:
        """Pending and not expired: she can still accept or decline."""
        return self.state == self.State.PENDING and not self.is_expired
