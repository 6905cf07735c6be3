"""`python manage.py seed_demo`: the demo practice "Demo Dental" and a week of appointments."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from calendars.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo practice, its people and a week of appointments from the next working day "
        "(and a few before today), safe to run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="Book as if today were this date (YYYY-MM-DD).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = seed_demo(today=options["today"])
        base_url = settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000"
        practice = result.practice
        self.stdout.write(
            f"{practice.name} ({practice.time_zone}), appointments from {result.first_day:%a %d %b %Y} "
            f"to {result.last_day:%a %d %b %Y}: "
            f"{result.users_created} accounts created, {result.appointments_created} appointments booked, "
            f"{result.appointments_skipped} already there or in the way."
        )
        self.stdout.write(f"Sign in at {base_url}/ (Django admin: {base_url}/admin/):")
        width = max(len(login.email) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.email:<{width}}  {login.password}  {login.name}, {login.what}")
        self.stdout.write("Passwords are set only when an account is first created.")
        self.stdout.write(f"Patients book online at {base_url}{result.booking_path}")
