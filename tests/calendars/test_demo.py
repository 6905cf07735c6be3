"""The demo practice: complete on the first run, untouched by the next."""

from __future__ import annotations

from datetime import date, time
from io import StringIO

import pytest
from django.core.management import call_command

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


@pytest.mark.django_db
def test_the_week_is_booked_monday_to_friday_without_overlaps():
    result = seed_demo(today=WEDNESDAY)
    assert result.week_start == date(2026, 11, 23)
    zone = result.practice.zone
    appointments = list(Appointment.objects.filter(practice=result.practice))
    assert len(appointments) == result.appointments_created
    days = {a.start.astimezone(zone).date() for a in appointments}
    assert days == {date(2026, 11, d) for d in range(23, 28)}
    kinds = {a.title.split(":")[0] for a in appointments}
    assert {"Cleaning", "Filling", "Check-up"} <= kinds
    for staff in {a.staff for a in appointments}:
        mine = sorted((a for a in appointments if a.staff == staff), key=lambda a: a.start)
        assert all(earlier.end <= later.start for earlier, later in zip(mine, mine[1:], strict=False))
    assert not Appointment.objects.filter(practice=result.practice, created_by=None).exists()


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
    assert "week of Mon 23 Nov 2026" in text
    for email in ("admin@demo-dental.test", "dr.alvarez@demo-dental.test", "root@demo-dental.test"):
        assert f"{email}" in text
    assert "demo-password-123" in text and "http://127.0.0.1:8000/admin/" in text
