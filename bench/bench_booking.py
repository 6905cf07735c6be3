"""The booking page's free times: stored busy time against asking Google's freeBusy live per view.

Five staff offer one appointment type; each has 5,000 events in their Google calendar over the next
30 days, pulled into busy blocks. The booking page's day step with "first available" computes every
free time of the type over 30 days for all five (``booking.flow.read_flow``, through the real view
and Django's test client). Timed as a median of repeated page views: the way the page works (stored
busy time, zero Google requests), and side by side with a busy source that asks Google's freeBusy
on every view (one request per person per view, Cal.com's way) while Google answers 50 ms late.

    python bench/bench_booking.py [--quick]
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
from bench.bench_availability import LiveFreeBusySource

STAFF = 5
DAYS = 30
LATENCY_MS = 50


def fill_google(connection, count: int) -> None:
    """``count`` two-minute events over the next 30 days, packed into the first 20 minutes of hours.

    Spread evenly (as ``bench_availability`` does), 5,000 events leave 3.6-minute gaps where no
    appointment fits; packed, each hour keeps 40 minutes free, so the page has times to offer
    while every busy block still has to be read and cut around.
    """
    from integrations.google import client
    from integrations.services import open_session

    calendar_id = connection.calendars.get(is_linked=True).calendar_id
    first = datetime.now().astimezone().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    per_hour = max(1, -(-count // (DAYS * 24)))
    ops = []
    for number in range(count):
        start = first + timedelta(hours=number // per_hour, minutes=3 * (number % per_hour))
        body = {
            "summary": f"Busy {number}",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=2)).isoformat()},
        }
        ops.append(client.EventOp("insert", calendar_id, body=body))
    failed = [r for r in open_session(connection).run_batch(ops, batch_size=1000) if isinstance(r, Exception)]
    if failed:
        raise RuntimeError(f"{len(failed)} inserts failed, first: {failed[0]}")


def time_views(client, path: str, query: dict, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path, query, HTTP_HOST="localhost")
        seconds.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
        assert b"day=" in response.content, "no free day at all: the benchmark data is wrong"
    return seconds


class LiveForEveryone:
    """``LiveFreeBusySource`` for each member's own connection (one freeBusy per person per view)."""

    def __init__(self, connections: dict) -> None:
        self.sources = {member_id: LiveFreeBusySource(c) for member_id, c in connections.items()}

    def intervals(self, *, member, start, end):
        return self.sources[member.pk].intervals(member=member, start=start, end=end)

    def ensure_fresh(self, *, member, start, end):
        return None


def main(argv: list[str] | None = None) -> int:
    quick = common.quick_flag(argv)
    env = common.setup("booking")
    count, runs = (300, 3) if quick else (5000, 15)
    Figure = common.Figure

    from django.test import Client

    from calendars import busy
    from calendars.models import AppointmentType
    from integrations.google import pull

    practice = common.make_practice("booking")
    practice.online_booking_enabled = True
    practice.save()
    members = common.make_staff(practice, STAFF)
    connections = {}
    for member in members:
        connection = common.connect(env, member)
        fill_google(connection, count)
        pull.pull_account(connection.pk)
        connections[member.pk] = connection
    kind = AppointmentType.objects.create(
        practice=practice, name="Check-up", bookable_online=True, min_notice_minutes=0, horizon_days=DAYS
    )
    kind.staff.set(members)

    client = Client()
    path, query = f"/book/{practice.slug}/", {"type": kind.pk, "staff": "any"}
    client.get(path, query, HTTP_HOST="localhost")  # warm up (imports, template loading)
    common.set_faults(env, rate=0, latency_ms=LATENCY_MS)
    common.reset_stats(env)
    stored = time_views(client, path, query, runs)
    stored_requests = common.http_requests(common.emulator_stats(env))

    saved = list(busy._sources)
    busy._sources[:] = [LiveForEveryone(connections)]
    try:
        common.reset_stats(env)
        live = time_views(client, path, query, runs)
        live_requests = common.http_requests(common.emulator_stats(env))
    finally:
        busy._sources[:] = saved
        common.set_faults(env)

    stored_ms, live_ms = common.median(stored) * 1000, common.median(live) * 1000
    note = f"{STAFF} staff × {count:,} busy blocks, {DAYS} days, {runs} views ({env.database})"
    figures = [
        Figure(
            "Google requests while rendering the booking page",
            stored_requests,
            "requests",
            "0",
            stored_requests == 0,
            f"{runs} views",
        ),
        Figure(
            "booking page free times (first available), median server time",
            round(stored_ms, 1),
            "ms",
            note=note,
        ),
        Figure(
            f"same, asking freeBusy live per view (Google {LATENCY_MS} ms late), median",
            round(live_ms, 1),
            "ms",
            note=f"{live_requests} requests for {runs} views",
        ),
        Figure("stored busy time is faster by", round(live_ms / stored_ms, 1), "×"),
    ]
    rows = [{"approach": "stored", "view": n + 1, "ms": round(s * 1000, 1)} for n, s in enumerate(stored)] + [
        {"approach": "live freeBusy", "view": n + 1, "ms": round(s * 1000, 1)} for n, s in enumerate(live)
    ]
    common.report("booking", rows, figures, quick=quick, env=env)
    print(
        json.dumps(
            {
                "name": "booking",
                "stored_median_ms": round(stored_ms, 1),
                "stored_google_requests": stored_requests,
                "live_median_ms": round(live_ms, 1),
                "live_google_requests": live_requests,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
