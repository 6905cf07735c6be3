"""Availability with Google busy time: stored blocks against asking Google live on every request.

One staff member, 5,000 events in their Google calendar over the next 30 days, pulled into busy
blocks. The free time over those 30 days (``free_intervals``) is timed (median of repeated runs)
the way the book computes it (stored busy time, zero Google requests), and side by side with a
source that asks Google's freeBusy live on each request while Google answers 50 ms late; also
the same free time cut into ~2,500 three-minute slots (``free_slots``).

    python bench/bench_availability.py [--quick]
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

DAYS = 30
LATENCY_MS = 50
SLOT_MINUTES = 3


def fill_google(connection, count: int) -> None:
    """``count`` five-minute events spread evenly over the next 30 days, 1,000 per batch request."""
    from integrations.google import client
    from integrations.services import open_session

    calendar_id = connection.calendars.get(is_linked=True).calendar_id
    first = datetime.now().astimezone().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    step = timedelta(days=DAYS) / count
    ops = []
    for number in range(count):
        start = first + step * number
        body = {
            "summary": f"Busy {number}",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=5)).isoformat()},
        }
        ops.append(client.EventOp("insert", calendar_id, body=body))
    failed = [r for r in open_session(connection).run_batch(ops, batch_size=1000) if isinstance(r, Exception)]
    if failed:
        raise RuntimeError(f"{len(failed)} inserts failed, first: {failed[0]}")


class LiveFreeBusySource:
    """The approach not taken: ask Google's freeBusy on every availability request."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def intervals(self, *, member, start, end):
        from calendars.busy import BusyInterval
        from integrations.services import open_session

        calendars = {c.calendar_id: c.summary for c in self.connection.calendars.filter(is_linked=True)}
        answer = open_session(self.connection).free_busy(list(calendars), start, end)
        return [
            BusyInterval(s, e, source=calendars[cid])
            for cid, spans in answer.items()
            if not isinstance(spans, Exception)
            for s, e in spans
        ]

    def ensure_fresh(self, *, member, start, end):
        return None


def time_availability(member, runs: int, *, slots: bool) -> list[float]:
    """Seconds per computation of the member's free time over the next 30 days.

    ``slots=False`` times ``free_intervals`` (the free time itself); ``slots=True`` also cuts it
    into 3-minute slots: 5,000 five-minute events spread evenly leave gaps of about 3.6 minutes,
    so that builds ~2,500 slots.
    """
    from django.utils import timezone

    from calendars.selectors import free_intervals, free_slots

    first = timezone.now().astimezone(member.practice.zone).date()
    last = first + timedelta(days=DAYS - 1)
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        if slots:
            found = free_slots(member=member, start_date=first, end_date=last, minutes=SLOT_MINUTES)
        else:
            found = free_intervals(member=member, start_date=first, end_date=last)
        seconds.append(time.perf_counter() - began)
    assert found, "no free time at all: the benchmark data is wrong"
    return seconds


def main(argv: list[str] | None = None) -> int:
    quick = common.quick_flag(argv)
    env = common.setup("availability")
    count, runs = (500, 5) if quick else (5000, 20)
    Figure = common.Figure

    from calendars import busy
    from integrations.google import pull
    from integrations.models import BusyBlock

    practice = common.make_practice("availability")
    [member] = common.make_staff(practice, 1)
    connection = common.connect(env, member)
    fill_google(connection, count)
    pull.pull_account(connection.pk)
    blocks = BusyBlock.objects.filter(calendar__connection=connection).count()
    assert blocks == count, f"{blocks} busy blocks stored for {count} events"

    common.set_faults(env, rate=0, latency_ms=LATENCY_MS)
    common.reset_stats(env)
    stored = time_availability(member, runs, slots=False)
    stored_slots = time_availability(member, runs, slots=True)
    stored_requests = common.http_requests(common.emulator_stats(env))

    saved = list(busy._sources)
    busy._sources[:] = [LiveFreeBusySource(connection)]
    try:
        common.reset_stats(env)
        live = time_availability(member, runs, slots=False)
        live_requests = common.http_requests(common.emulator_stats(env))
    finally:
        busy._sources[:] = saved
        common.set_faults(env)

    stored_ms, live_ms = common.median(stored) * 1000, common.median(live) * 1000
    figures = [
        Figure(
            f"free time over {DAYS} days with {count:,} busy blocks, median",
            round(stored_ms, 1),
            "ms",
            "< 20 ms",
            stored_ms < 20,
            f"{runs} runs of free_intervals, stored busy time ({env.database})",
        ),
        Figure(
            f"same, cut into {SLOT_MINUTES}-minute slots (~2,500), median",
            round(common.median(stored_slots) * 1000, 1),
            "ms",
            note=f"{runs} runs of free_slots",
        ),
        Figure(
            "Google requests while computing availability",
            stored_requests,
            "requests",
            "0",
            stored_requests == 0,
            f"{runs} runs",
        ),
        Figure(
            f"same, asking freeBusy live per request (Google {LATENCY_MS} ms late), median",
            round(live_ms, 1),
            "ms",
            note=f"{live_requests} requests for {runs} runs",
        ),
        Figure("stored busy time is faster by", round(live_ms / stored_ms, 1), "×"),
    ]
    rows = [{"approach": "stored", "run": n + 1, "ms": round(s * 1000, 1)} for n, s in enumerate(stored)] + [
        {"approach": "live freeBusy", "run": n + 1, "ms": round(s * 1000, 1)} for n, s in enumerate(live)
    ]
    common.report("availability", rows, figures, quick=quick, env=env)
    summary = {
        "name": "availability",
        "blocks": count,
        "stored_median_ms": round(stored_ms, 1),
        "stored_google_requests": stored_requests,
        "live_median_ms": round(live_ms, 1),
        "live_google_requests": live_requests,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
