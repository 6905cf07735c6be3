"""The team day view for 50 staff: one request, its median time and its queries, beside the stack's floor.

50 staff with 07:00–19:00 hours, 10 appointments each on the day shown, and Google busy time
(3 blocks a day) on every calendar. The page is requested in-process through Django's test client
as a logged-in admin (the whole request: middleware, queries, template), and timed over repeated
runs. The floor is the same stack answering the smallest logged-in page (the invitations page),
measured the same way; their ratio is what the performance issue sets a target for.

    python bench/bench_team.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

STAFF = 50


def add_google_busy(members, day) -> None:
    """A Google connection with a conflict calendar of 3 busy blocks that day, for each member."""
    from integrations.models import BusyBlock

    blocks = []
    for member in members:
        calendar = common.conflict_calendar(member)
        zone = member.practice.zone
        for hour in (12, 17, 20):
            start = datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone)
            blocks.append(
                BusyBlock(
                    calendar=calendar, event_id=f"e{hour}", start=start, end=start + timedelta(minutes=30)
                )
            )
    BusyBlock.objects.bulk_create(blocks)


def time_page(client, url: str, runs: int) -> tuple[list[float], int]:
    """Seconds per request of ``url`` (after one warm-up), and the queries of one request."""
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return samples, len(queries)


def main(argv: list[str] | None = None) -> int:
    quick = common.quick_flag(argv)
    env = common.setup("team")
    runs = 5 if quick else 30
    Figure = common.Figure

    from django.test import Client
    from django.utils import timezone

    from copilot.accounts.models import Membership

    practice = common.make_practice("team")
    staff = common.make_staff(practice, STAFF - 1)
    [desk] = common.make_staff(practice, 1, prefix="desk", role=Membership.Role.ADMIN)
    for member in staff:
        common.upcoming_appointments(member, 10, per_day=10, first_day=0)
    day = timezone.now().astimezone(practice.zone).date()
    add_google_busy([*staff, desk], day)

    client = Client(HTTP_HOST="localhost")
    client.force_login(desk.user)
    team, team_queries = time_page(client, f"/calendars/team/?date={day.isoformat()}", runs)
    floor, floor_queries = time_page(client, "/invitations/", runs)
    team_ms, floor_ms = common.median(team) * 1000, common.median(floor) * 1000
    figures = [
        Figure(
            f"team day view, {STAFF} staff, median",
            round(team_ms, 1),
            "ms",
            note=f"{runs} requests, {team_queries} queries each ({env.database})",
        ),
        Figure(
            "the stack's floor (smallest logged-in page), median",
            round(floor_ms, 1),
            "ms",
            note=f"{runs} requests, {floor_queries} queries each",
        ),
        Figure("team day view / floor", round(team_ms / floor_ms, 1), "×", note="target: performance issue"),
    ]
    rows = [{"page": "team day", "run": n + 1, "ms": round(s * 1000, 1)} for n, s in enumerate(team)] + [
        {"page": "floor", "run": n + 1, "ms": round(s * 1000, 1)} for n, s in enumerate(floor)
    ]
    common.report("team", rows, figures, quick=quick, env=env)
    print(
        json.dumps({"name": "team", "staff": STAFF, "median_ms": round(team_ms, 1), "queries": team_queries})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
