"""A demo practice to click through: "Demo Dental", its people, and a week of appointments.

The appointments start on the next working day, whatever day it is (five working days of them),
with a few on the two working days before today for history: the list, the week view and the
emulator's pages (which show what is ahead) all have something to show, on a Saturday too.

``seed_demo`` is idempotent: people and the practice are created only when missing (a password
only for a new account), and appointments go through the booking service, skipping any that
exist already or that a rule refuses, so running it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import cycle

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from copilot.accounts.models import Membership, Practice, User
from copilot.accounts.services import practice_create
from patients.models import Patient

from .models import Appointment, AppointmentType, WorkingHours
from .services import BookingError, appointment_book, working_hours_set
from .timezones import local_to_aware

PRACTICE_NAME = "Demo Dental"
PRACTICE_SLUG = "demo-dental"
PRACTICE_TIME_ZONE = "America/New_York"
PASSWORD = "demo-password-123"
SUPERUSER_EMAIL = "root@demo-dental.test"

# (email, first name, last name, role, what they do)
PEOPLE = [
    ("admin@demo-dental.test", "Alex", "Morgan", Membership.Role.ADMIN, "practice admin"),
    ("dr.alvarez@demo-dental.test", "Dr. Maria", "Alvarez", Membership.Role.STAFF, "dentist"),
    ("sam.lee@demo-dental.test", "Sam", "Lee", Membership.Role.STAFF, "hygienist"),
]
WORKING_WEEK = [
    (weekday, start, end)
    for weekday in range(5)
    for start, end in ((time(8), time(12)), (time(13), time(17)))
]

# Daily patterns of (start "HH:MM", minutes, kind); weekdays take turns with them.
DENTIST_DAYS = [
    [
        ("08:00", 60, "Filling"),
        ("09:00", 30, "Check-up"),
        ("09:30", 30, "Check-up"),
        ("10:30", 90, "Crown preparation"),
        ("13:00", 60, "Root canal"),
        ("14:30", 30, "Emergency exam"),
        ("15:30", 60, "Filling"),
    ],
    [
        ("08:30", 30, "New patient exam"),
        ("09:00", 60, "Filling"),
        ("10:00", 30, "Check-up"),
        ("11:00", 60, "Extraction"),
        ("13:30", 90, "Crown fitting"),
        ("15:30", 30, "Check-up"),
        ("16:00", 30, "Check-up"),
    ],
]
HYGIENIST_DAYS = [
    [
        ("08:00", 60, "Cleaning"),
        ("09:00", 60, "Cleaning"),
        ("10:00", 60, "Deep cleaning"),
        ("11:00", 45, "Cleaning"),
        ("13:00", 60, "Cleaning"),
        ("14:00", 30, "Fluoride and sealants"),
        ("15:00", 60, "Cleaning"),
        ("16:00", 60, "Cleaning"),
    ],
    [
        ("08:30", 60, "Cleaning"),
        ("10:00", 60, "Periodontal maintenance"),
        ("11:00", 60, "Cleaning"),
        ("13:00", 60, "Cleaning"),
        ("14:30", 60, "Cleaning"),
        ("16:00", 45, "Whitening consultation"),
    ],
]
ADMIN_DAYS = [  # the practice admin sees patients about treatment plans and money
    [
        ("09:00", 30, "Treatment plan consultation"),
        ("11:00", 30, "Insurance and billing review"),
        ("14:00", 30, "Treatment plan consultation"),
    ],
    [("10:00", 30, "Treatment plan consultation"), ("15:00", 30, "Financing consultation")],
]
PATIENTS = [
    "Jordan Patel", "Priya Shah", "Tom Becker", "Lucia Romero", "Ava Kim", "Marcus Bell", "Hannah Cohen",
    "Diego Torres", "Grace Liu", "Owen Murphy", "Fatima Rahman", "Ethan Brooks", "Sofia Rossi",
    "Noah Williams", "Mei Tanaka", "Liam O'Connor", "Zara Ahmed", "Lucas Silva", "Chloe Martin",
    "Ben Okafor", "Isabel Ortiz", "Ryan Walsh", "Nina Petrova", "Caleb Young", "Aisha Bello",
]  # fmt: skip
ROOMS = {
    "admin@demo-dental.test": "Front office",
    "dr.alvarez@demo-dental.test": "Operatory 1",
    "sam.lee@demo-dental.test": "Hygiene room",
}


# Types patients may book themselves on the demo's booking page, and their buffers after.
ONLINE_KINDS = {"Check-up": 10, "Cleaning": 15, "New patient exam": 10}
COLOURS = [c for c, _ in AppointmentType.Colour.choices]


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    name: str
    what: str


UPCOMING_DAYS = 5  # working days booked from the next one on
PAST_DAYS = 2  # working days before today with a few appointments, for history
PAST_PER_PERSON = 2  # appointments per person on each of those days


@dataclass
class DemoResult:
    practice: Practice
    first_day: date  # the first upcoming day booked
    last_day: date
    logins: list[Login] = field(default_factory=list)
    users_created: int = 0
    appointments_created: int = 0
    appointments_skipped: int = 0

    @property
    def booking_path(self) -> str:
        return f"/book/{self.practice.slug}/"


def _user(email: str, *, first_name: str, last_name: str, result: DemoResult, superuser: bool = False):
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        create = User.objects.create_superuser if superuser else User.objects.create_user
        user = create(email=email, password=PASSWORD, first_name=first_name, last_name=last_name)
        result.users_created += 1
        # Email verification is mandatory; the demo's people count as having proven their address.
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
    return user


def working_days(start: date, count: int, step: int) -> list[date]:
    """``count`` weekdays (Monday to Friday) after ``start`` (``step`` 1) or before it (-1), nearest first."""
    days, day = [], start
    while len(days) < count:
        day += timedelta(days=step)
        if day.weekday() < 5:
            days.append(day)
    return days


def _plan(days: list[date], per_person: int | None = None) -> list[tuple[str, date, str, int, str]]:
    """(staff email, day, start, minutes, title) for each of ``days``, at most ``per_person`` a day."""
    plan = []
    patients = cycle(PATIENTS)
    for day in days:
        for email, patterns in (
            ("admin@demo-dental.test", ADMIN_DAYS),
            ("dr.alvarez@demo-dental.test", DENTIST_DAYS),
            ("sam.lee@demo-dental.test", HYGIENIST_DAYS),
        ):
            for start, minutes, kind in patterns[day.toordinal() % len(patterns)][:per_person]:
                plan.append((email, day, start, minutes, f"{kind}: {next(patients)}"))
    return plan


@transaction.atomic
def seed_demo(*, today: date | None = None) -> DemoResult:
    """Create (or complete) the demo practice and book from the working day after ``today`` on
    (``UPCOMING_DAYS`` working days), plus a few appointments on the ``PAST_DAYS`` working days before.

    ``today`` defaults to the current date in the practice's time zone. Returns what was
    created and the logins to print; never raises for an appointment that cannot be booked.
    """
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first() or practice_create(
        name=PRACTICE_NAME, slug=PRACTICE_SLUG, time_zone=PRACTICE_TIME_ZONE
    )
    today = today or timezone.now().astimezone(practice.zone).date()
    upcoming = working_days(today, UPCOMING_DAYS, 1)
    result = DemoResult(practice=practice, first_day=upcoming[0], last_day=upcoming[-1])

    members: dict[str, Membership] = {}
    for email, first_name, last_name, role, what in PEOPLE:
        user = _user(email, first_name=first_name, last_name=last_name, result=result)
        member, _ = Membership.objects.get_or_create(user=user, practice=practice, defaults={"role": role})
        if not WorkingHours.objects.filter(member=member).exists():
            working_hours_set(member=member, intervals=WORKING_WEEK)
        members[email] = member
        result.logins.append(Login(email, PASSWORD, user.display_name, what))
    root = _user(SUPERUSER_EMAIL, first_name="Site", last_name="Admin", result=result, superuser=True)
    result.logins.append(Login(root.email, PASSWORD, root.display_name, "Django admin superuser"))

    Practice.objects.filter(pk=practice.pk).update(online_booking_enabled=True)
    practice.online_booking_enabled = True
    types = _types(practice, members)
    patients = _patients(practice)
    admin = members[PEOPLE[0][0]].user
    plan = _plan(upcoming) + _plan(working_days(today, PAST_DAYS, -1)[::-1], PAST_PER_PERSON)
    for email, day, start, minutes, title in plan:
        member = members[email]
        kind, patient_name = title.split(": ", 1)
        starts_at = local_to_aware(datetime.combine(day, time.fromisoformat(start)), practice.zone)
        exists = Appointment.objects.filter(
            staff=member, start=starts_at, title=title, status=Appointment.Status.BOOKED
        ).exists()
        if exists:
            result.appointments_skipped += 1
            continue
        try:
            appointment_book(
                practice=practice,
                staff=member,
                start=starts_at,
                end=starts_at + timedelta(minutes=minutes),
                patient=patients[patient_name],
                appointment_type=types[kind],  # the title is derived: "Check-up: Lucia Romero"
                location=ROOMS[email],
                created_by=admin,
            )
        except BookingError:  # someone moved things around since the last run: leave it be
            result.appointments_skipped += 1
        else:
            result.appointments_created += 1
    return result


def _types(practice: Practice, members: dict[str, Membership]) -> dict[str, AppointmentType]:
    """One type per kind of the week's plan, offered by whoever does it; a few bookable online."""
    offered_by: dict[str, tuple[int, set[str]]] = {}
    for email, patterns in (
        ("admin@demo-dental.test", ADMIN_DAYS),
        ("dr.alvarez@demo-dental.test", DENTIST_DAYS),
        ("sam.lee@demo-dental.test", HYGIENIST_DAYS),
    ):
        for day in patterns:
            for _, minutes, kind in day:
                offered_by.setdefault(kind, (minutes, set()))[1].add(email)
    types = {}
    for index, (kind, (minutes, emails)) in enumerate(sorted(offered_by.items())):
        kind_type, created = AppointmentType.objects.get_or_create(
            practice=practice,
            name=kind,
            defaults={
                "duration_minutes": minutes,
                "colour": COLOURS[index % len(COLOURS)],
                "bookable_online": kind in ONLINE_KINDS,
                "buffer_after_minutes": ONLINE_KINDS.get(kind, 0),
                "location": "Demo Dental, 12 Main Street",
            },
        )
        if created:
            kind_type.staff.set([members[email] for email in sorted(emails)])
        types[kind] = kind_type
    return types


def _patients(practice: Practice) -> dict[str, Patient]:
    patients = {}
    for number, name in enumerate(PATIENTS):
        handle = name.lower().replace(" ", ".").replace("'", "")
        patients[name], _ = Patient.objects.get_or_create(
            practice=practice,
            name=name,
            defaults={"email": f"{handle}@example.test", "phone": f"+1 212 555 01{number:02d}"},
        )
    return patients
