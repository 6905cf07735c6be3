"""The appointment book: appointments, their history, and working hours."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Func, Q

from copilot.accounts.models import Membership, Practice

NO_OVERLAP_CONSTRAINT = "appointment_no_overlap_per_staff"  # until 0009; migrations 0002/0003 name it
PARTICIPANT_NO_OVERLAP_CONSTRAINT = "participant_no_overlap_per_member"


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class AppointmentType(models.Model):
    """What kind of appointment (a check-up, a filling): its length, buffers and who offers it.

    The buffers keep free time around an appointment of this type when free times are offered
    online; minimum notice and horizon bound how soon and how far ahead it can be booked there.
    """

    class Colour(models.TextChoices):
        # A fixed palette: the grid colours blocks with a CSS class (``type-<colour>``), so no
        # colour ever travels in a style attribute.
        BLUE = "blue", "Blue"
        GREEN = "green", "Green"
        TEAL = "teal", "Teal"
        PURPLE = "purple", "Purple"
        ORANGE = "orange", "Orange"
        RED = "red", "Red"
        GREY = "grey", "Grey"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointment_types")
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(12 * 60)]
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        "buffer before (minutes)", default=0, validators=[MaxValueValidator(240)]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        "buffer after (minutes)", default=0, validators=[MaxValueValidator(240)]
    )
    colour = models.CharField(max_length=10, choices=Colour.choices, default=Colour.BLUE)
    staff = models.ManyToManyField(
        Membership, blank=True, related_name="appointment_types", help_text="Who offers this type."
    )
    bookable_online = models.BooleanField(default=False)
    min_notice_minutes = models.PositiveIntegerField(
        "minimum notice (minutes)", default=120, validators=[MaxValueValidator(60 * 24 * 90)]
    )
    horizon_days = models.PositiveSmallIntegerField(
        "how far ahead (days)", default=60, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    location = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="appointment_type_name_per_practice")
        ]

    def __str__(self) -> str:
        return self.name


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointments")
    staff = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="appointments",
        help_text="The staff member whose calendar the appointment sits on.",
    )
    assignees = models.ManyToManyField(Membership, blank=True, related_name="assigned_appointments")
    title = models.CharField(max_length=200)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    booked_online = models.BooleanField(default=False, help_text="Booked by the patient on the booking page.")
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    location = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    has_conflict = models.BooleanField(
        default=False,
        help_text="Moved outside the portal (for example in Google) onto time that is taken.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["staff", "start"], name="appointment_staff_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="appointment_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.start:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.BOOKED


def no_overlap_constraint() -> ExclusionConstraint:
    """The former per-owner rule on ``Appointment`` (migrations 0002, 0003; dropped by 0009, which
    puts the rule on ``Participant`` so assignees are covered too). Kept for those migrations."""
    return ExclusionConstraint(
        name=NO_OVERLAP_CONSTRAINT,
        expressions=[
            ("staff", RangeOperators.EQUAL),
            (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
        ],
        condition=Q(status="booked", has_conflict=False),
    )


class Participant(models.Model):
    """One person taking part in an appointment: its staff member (the owner) or an assignee.

    Written only by the booking services, which keep ``start``, ``end`` and ``active`` equal to the
    appointment's (active: booked and not flagged as a Google conflict). The no-overlap rule lives
    on this table (``participant_no_overlap_constraint``): no member is in two active appointments
    at once, whoever owns them.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="participants")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="participations")
    is_owner = models.BooleanField(default=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["member", "start"], name="participant_member_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "member"], name="participant_once_per_appointment"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="participant_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.appointment_id}"


def participant_no_overlap_constraint() -> ExclusionConstraint:
    """PostgreSQL's guarantee that one member's active participations never overlap.

    Added by a PostgreSQL-only migration (0009); SQLite serializes bookings in the service instead.
    Rows of appointments flagged ``has_conflict`` are inactive and so left out: a change made in
    Google is accepted as the staff member made it, overlap and all, and shown as a conflict.
    """
    return ExclusionConstraint(
        name=PARTICIPANT_NO_OVERLAP_CONSTRAINT,
        expressions=[
            ("member", RangeOperators.EQUAL),
            (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
        ],
        condition=Q(active=True),
    )


class AppointmentChange(models.Model):
    """One line of an appointment's history: who changed what, and from where."""

    class Source(models.TextChoices):
        PORTAL = "portal", "Portal"
        GOOGLE = "google", "Changed in Google"
        ADMIN = "admin", "Django admin"
        ONLINE = "online", "Online booking"
        SYSTEM = "system", "System"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PORTAL)
    action = models.CharField(max_length=20)
    summary = models.CharField(max_length=500)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action}: {self.summary}"


class WorkingHours(models.Model):
    """One interval of a staff member's working week, in the practice's time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["member", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="working_hours_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class TeamViewPreference(models.Model):
    """Whom a person shows on the team views, remembered per membership (so per practice)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="team_view_preference"
    )
    shown_member_ids = models.JSONField(
        default=list, blank=True, help_text="Membership ids to show; empty shows the whole team."
    )

    def __str__(self) -> str:
        return f"Team view of {self.membership}"


class InboxItem(models.Model):
    """One line of the practice's "Changes from Google" inbox: a change the front desk did not make.

    Written by the calendars service that applies the change (so every path records it), with the
    appointment as it was before and after. ``source`` says where the change came from: Google today;
    the online-booking branch adds its own source (and kind ``booked``) through ``inbox_item_record``.
    ``version_after`` is the appointment's version the change left: Undo refuses when it moved on.
    """

    class Source(models.TextChoices):
        GOOGLE = "google", "Google"

    class Kind(models.TextChoices):
        MOVED = "moved", "Moved"
        RETITLED = "retitled", "Retitled"
        RELOCATED = "relocated", "Location changed"
        CHANGED = "changed", "Notes changed"
        CONFLICT = "conflict", "Moved onto taken time"
        CANCELLED = "cancelled", "Cancelled: deleted in Google"
        PUT_BACK = "put_back", "Deleted in Google, put back"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="inbox_items")
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="inbox_items")
    staff = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="+", help_text="Whose calendar it was changed in."
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GOOGLE)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    version_after = models.PositiveIntegerField()
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(
                fields=["practice"], condition=Q(read_at__isnull=True), name="inbox_item_unread_per_practice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
