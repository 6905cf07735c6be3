"""The demo practice: complete on the first run, untouched by the next."""

from __future__ import annotations

from datetime import date, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time

from calendars.demo import PASSWORD, seed_demo
from calendars.models import Appointment, AppointmentChange, WorkingHours
from copilot.accounts.models import Membership, Practice, User

WEDNESDAY = date(2026, 11, 25)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Practice, User, Membership, WorkingHours, Appointment, AppointmentChange)
    }


@pytest.mark.django_db
def test_running_twice_creates_no_duplicates():
    first = seed_demo(today=WEDNESDAY)
    after_first = counts()
    second = seed_demo(today=WEDNESDAY)
    assert counts() == after_first
    assert (second.users_created, second.appointments_created) == (0, 0)
    assert second.appointments_skipped == first.appointments_created > 40


@pytest.mark.django_db
def test_the_demo_practice_its_people_and_their_hours():
    result = seed_demo(today=WEDNESDAY)
    practice = Practice.objects.get(slug="demo-dental")
    assert (practice.name, practice.time_zone) == ("Demo Dental", "America/New_York")
    members = {m.user.email: m for m in Membership.objects.filter(practice=practice)}
    assert {email: (m.user.get_full_name(), m.role) for email, m in members.items()} == {
        "admin@demo-dental.test": ("Alex Morgan", "admin"),
        "dr.alvarez@demo-dental.test": ("Dr. Maria Alvarez", "staff"),
        "sam.lee@demo-dental.test": ("Sam Lee", "staff"),
    }
    for member in members.values():
        assert member.user.check_password(PASSWORD)
        hours = set(
            WorkingHours.objects.filter(member=member).values_list("weekday", "start_time", "end_time")
        )
        assert hours == {(d, s, e) for d in range(5) for s, e in ((time(8), time(12)), (time(13), time(17)))}
    root = User.objects.get(email="root@demo-dental.test")
    assert root.is_superuser and root.is_staff and root.check_password(PASSWORD)
    assert [login.email for login in result.logins] == [*members, "root@demo-dental.test"]


def booked_days(result) -> dict[date, int]:
    zone = result.practice.zone
    days: dict[date, int] = {}
    for appointment in Appointment.objects.filter(practice=result.practice):
        day = appointment.start.astimezone(zone).date()
        days[day] = days.get(day, 0) + 1
    return days


@pytest.mark.django_db
def test_a_week_is_booked_from_the_next_working_day_with_a_few_before_today_without_overlaps():
    # Deliberately changed (issue 13): it booked the week holding today, Monday to Friday.
    result = seed_demo(today=WEDNESDAY)
    assert (result.first_day, result.last_day) == (date(2026, 11, 26), date(2026, 12, 2))
    zone = result.practice.zone
    appointments = list(Appointment.objects.filter(practice=result.practice))
    assert len(appointments) == result.appointments_created
    days = booked_days(result)
    upcoming = {
        date(2026, 11, 26),
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    }
    assert set(days) == upcoming | {date(2026, 11, 23), date(2026, 11, 24)}, "nothing today or on a weekend"
    assert days[date(2026, 11, 24)] == days[date(2026, 11, 23)] == 6, "a few for history: two per person"
    assert all(days[day] > 10 for day in upcoming)
    kinds = {a.title.split(":")[0] for a in appointments}
    assert {"Cleaning", "Filling", "Check-up"} <= kinds
    for staff in {a.staff for a in appointments}:
        mine = sorted((a for a in appointments if a.staff == staff), key=lambda a: a.start)
        assert all(earlier.end <= later.start for earlier, later in zip(mine, mine[1:], strict=False))
    assert all(a.start.astimezone(zone).weekday() < 5 for a in appointments)
    assert not Appointment.objects.filter(practice=result.practice, created_by=None).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "now, first_day",
    [
        ("2026-11-28 16:00:00", date(2026, 11, 30)),  # Saturday 11:00 in New York
        ("2026-11-29 16:00:00", date(2026, 11, 30)),  # Sunday
        ("2026-11-28 04:00:00", date(2026, 11, 30)),  # still Friday night in New York: Saturday in UTC
    ],
)
def test_on_a_weekend_the_demo_opens_on_a_week_of_upcoming_appointments(now, first_day):
    with freeze_time(now):
        result = seed_demo()
        upcoming = Appointment.objects.filter(practice=result.practice, start__gt=timezone.now())
        assert result.first_day == first_day
        days = booked_days(result)
        assert min(d for d in days if d >= first_day) == first_day
        assert len([d for d in days if d >= first_day]) == 5
        assert upcoming.count() > 50, "the list (today onward) and the emulator's pages have a week to show"
        assert Appointment.objects.filter(practice=result.practice, end__lt=timezone.now()).exists()


@pytest.mark.django_db
def test_an_existing_account_keeps_its_password():
    User.objects.create_user(email="sam.lee@demo-dental.test", password="sams-own-password")
    result = seed_demo(today=WEDNESDAY)
    assert User.objects.get(email="sam.lee@demo-dental.test").check_password("sams-own-password")
    assert result.users_created == 3


@pytest.mark.django_db
def test_a_slot_taken_since_the_last_run_is_skipped_not_an_error():
    first = seed_demo(today=WEDNESDAY)
    moved = Appointment.objects.filter(practice=first.practice).order_by("start").first()
    moved.title = "Moved by reception"
    moved.save()
    second = seed_demo(today=WEDNESDAY)
    assert second.appointments_created == 0
    assert Appointment.objects.filter(practice=first.practice).count() == first.appointments_created


@pytest.mark.django_db
def test_the_command_prints_the_logins():
    out = StringIO()
    call_command("seed_demo", "--today", "2026-11-25", stdout=out)
    text = out.getvalue()
    assert "appointments from Thu 26 Nov 2026 to Wed 02 Dec 2026" in text  # was "week of Mon 23 Nov"
    for email in ("admin@demo-dental.test", "dr.alvarez@demo-dental.test", "root@demo-dental.test"):
        assert f"{email}" in text
    assert "demo-password-123" in text and "http://127.0.0.1:8000/admin/" in text
    assert "Patients book online at http://127.0.0.1:8000/book/demo-dental/" in text


@pytest.mark.django_db
def test_the_demo_has_types_patients_and_an_online_booking_page(client):
    result = seed_demo(today=date(2026, 11, 25))
    practice = result.practice
    assert practice.online_booking_enabled and result.booking_path == "/book/demo-dental/"
    online = set(practice.appointment_types.filter(bookable_online=True).values_list("name", flat=True))
    assert online == {"Check-up", "Cleaning", "New patient exam"}
    appointment = Appointment.objects.filter(practice=practice).exclude(patient=None).first()
    assert appointment.title == f"{appointment.appointment_type.name}: {appointment.patient.name}"
    assert not Appointment.objects.filter(practice=practice, patient=None).exists()
    assert client.get(result.booking_path).status_code == 200
