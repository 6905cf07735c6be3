"""Busy time in logarithmic time: reading one member's week costs the same at 500 and 50,000 blocks.

One staff member with a linked Google calendar. For each size (500, 5,000, 50,000 blocks; quick:
500 and 5,000) the calendar holds the same week on screen (60 blocks over the 7 days, two of them
multi-day holidays) and the rest of its blocks spread over the two years around it, the way a
long-connected calendar looks. Timed, median of repeated runs, side by side in one run:

- ``intervals`` over 7 and 30 days (the week view's read, uncached);
- ``spans`` over 7 days on a cache miss and on a hit (availability's read; the hit's validity
  check reads the calendars' ``busy_version``, never the blocks);
- an idle poll of the connection against the emulator: its database queries (target ≤ 3) and
  its time (the end-of-pull sweep follows what changed, not the calendar's size).

Blocks are written straight to the database (``bulk_create``): what is measured is reading them.

    python bench/bench_busy.py [--quick]
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

WEEK_BLOCKS = 60
SPREAD_DAYS = 730


def fill(calendar, total: int, week_start) -> None:
    """The same week on screen at any size; the rest of ``total`` spread over two years around it."""
    from integrations.models import BusyBlock

    blocks = [
        BusyBlock(
            calendar=calendar,
            event_id=f"w{n}",
            start=week_start + timedelta(hours=8 + (n % 10), days=n // 10),
            end=week_start + timedelta(hours=8 + (n % 10), days=n // 10, minutes=30),
            summary="Errand",
        )
        for n in range(WEEK_BLOCKS - 2)
    ]
    blocks.append(  # a holiday that began before the week and one that ends after it
        BusyBlock(
            calendar=calendar,
            event_id="h1",
            start=week_start - timedelta(days=10),
            end=week_start + timedelta(days=1),
        )
    )
    blocks.append(
        BusyBlock(
            calendar=calendar,
            event_id="h2",
            start=week_start + timedelta(days=6),
            end=week_start + timedelta(days=12),
        )
    )
    rest = total - WEEK_BLOCKS
    first = week_start - timedelta(days=SPREAD_DAYS // 2)
    step = timedelta(days=SPREAD_DAYS) / max(rest, 1)
    for n in range(rest):
        start = first + step * n
        if week_start - timedelta(days=2) <= start < week_start + timedelta(days=40):
            start -= timedelta(days=60)  # keep the measured month exactly as it is at every size
        blocks.append(
            BusyBlock(calendar=calendar, event_id=f"r{n}", start=start, end=start + timedelta(minutes=45))
        )
    BusyBlock.objects.filter(calendar=calendar).delete()
    BusyBlock.objects.bulk_create(blocks, batch_size=2000)
    BusyBlock.mark_changed(calendar.pk)


def timed(runs: int, call) -> tuple[float, object]:
    """Median milliseconds of ``runs`` calls, and the last result."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        found = call()
        seconds.append(time.perf_counter() - began)
    return common.median(seconds) * 1000, found


def measure(connection, member, week_start, runs: int) -> dict:
    from django.core.cache import cache
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from integrations.busy import GoogleBusySource
    from integrations.google import pull

    source = GoogleBusySource()
    week_end = week_start + timedelta(days=7)
    month_end = week_start + timedelta(days=30)
    week_ms, week = timed(runs, lambda: source.intervals(member=member, start=week_start, end=week_end))
    month_ms, _ = timed(runs, lambda: source.intervals(member=member, start=week_start, end=month_end))

    def miss():
        cache.clear()
        return source.spans(member=member, start=week_start, end=week_end)

    miss_ms, _ = timed(runs, miss)
    hit_ms, _ = timed(runs, lambda: source.spans(member=member, start=week_start, end=week_end))
    with CaptureQueriesContext(db) as queries:
        poll_ms, _ = timed(1, lambda: pull.pull_account(connection.pk))
    if os.environ.get("BENCH_VERBOSE"):
        print("\n".join(q["sql"][:200] for q in queries.captured_queries))
        week = source._blocks(member, [connection.calendars.get(is_linked=True).pk], week_start, week_end)
        print(week.explain())
        print("blocks", week.count(), source._calendars(member))
    poll_runs = [poll_ms] + [timed(1, lambda: pull.pull_account(connection.pk))[0] for _ in range(runs // 2)]
    return {
        "week_blocks": len(week),
        "week_ms": round(week_ms, 2),
        "month_ms": round(month_ms, 2),
        "spans_miss_ms": round(miss_ms, 2),
        "spans_hit_ms": round(hit_ms, 2),
        "idle_poll_queries": len(queries.captured_queries),
        "idle_poll_ms": round(common.median(poll_runs), 2),
    }


def main(argv: list[str] | None = None) -> int:
    quick = common.quick_flag(argv)
    env = common.setup("busy")
    sizes, runs = ((500, 5000), 9) if quick else ((500, 5000, 50000), 31)
    Figure = common.Figure

    from django.utils import timezone

    from integrations.google import pull

    practice = common.make_practice("busy")
    [member] = common.make_staff(practice, 1)
    connection = common.connect(env, member)
    calendar = connection.calendars.get(is_linked=True)
    pull.pull_account(connection.pk)  # the first (full) sync: from here on, polls are incremental
    week_start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)

    fill(calendar, sizes[0], week_start)
    measure(connection, member, week_start, 3)  # warm up (imports, connections, plans): not recorded
    rows = []
    for total in sizes:
        fill(calendar, total, week_start)
        rows.append({"blocks": total, **measure(connection, member, week_start, runs)})
        print(rows[-1], flush=True)
    small, large = rows[0], rows[-1]
    assert small["week_blocks"] == large["week_blocks"] == WEEK_BLOCKS, rows
    ratio = large["week_ms"] / small["week_ms"]
    month_ratio = large["month_ms"] / small["month_ms"]
    poll_ratio = large["idle_poll_ms"] / small["idle_poll_ms"]
    most_queries = max(r["idle_poll_queries"] for r in rows)
    big, little = f"{large['blocks']:,}", f"{small['blocks']:,}"
    figures = [
        Figure(f"one member's 7 days of busy time at {little} blocks, median", small["week_ms"], "ms"),
        Figure(
            f"same at {big} blocks, median", large["week_ms"], "ms", note=f"{WEEK_BLOCKS} blocks in the week"
        ),
        Figure(
            f"7 days at {big} ÷ at {little} blocks",
            round(ratio, 2),
            "×",
            "≤ 2×",
            ratio <= 2,
            f"{runs} runs each, same run ({env.database})",
        ),
        Figure(
            f"30 days at {big} ÷ at {little} blocks", round(month_ratio, 2), "×", note="intervals, uncached"
        ),
        Figure(f"availability spans, 7 days, cache miss at {big} blocks", large["spans_miss_ms"], "ms"),
        Figure(
            f"availability spans, 7 days, cache hit at {big} blocks",
            large["spans_hit_ms"],
            "ms",
            note="shared cache; validity = the calendars' busy_version",
        ),
        Figure(
            "DB queries per idle poll of a connection",
            most_queries,
            "queries",
            "≤ 3",
            most_queries <= 3,
            "one calendar; pinned by tests/integrations/google/test_pull_sync.py",
        ),
        Figure(
            f"idle poll at {big} ÷ at {little} blocks",
            round(poll_ratio, 2),
            "×",
            note="no sweep scan: the poll's cost does not follow the calendar's size",
        ),
    ]
    common.report("busy", rows, figures, quick=quick, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
