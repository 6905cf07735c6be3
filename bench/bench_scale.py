"""Internet scale, simulated: many connected staff polled and pushing against the emulator.

Staff in practices of ten, each with a connected Google calendar (first full pull done). The
emulator enforces Google's quotas (600 requests/min/user, 10,000/min/project) and fails 10% of
requests. Two ``qcluster`` processes on a Redis broker (``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/13``: a database number of this bench's own, flushed first) run the
pulls and pushes. Time is compressed: one simulated minute of the poll schedule lasts
``--tick`` real seconds; each tick the bench calls ``pull.poll_due`` as the every-minute schedule
would, over two poll intervals, and books one appointment for a share of the staff on the way.
Then faults stop, the outboxes drain, and every booking must be in Google exactly once.

Reported: polls per simulated minute against their mean (the spreading), Google requests per
real second, quota refusals, queue lag p95 (enqueue → the pull recorded), lost and duplicated
events. ``--quick``: 60 staff, 1-second ticks (the CI smoke).

    python bench/bench_scale.py [--quick] [--staff 10000] [--tick 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.bench_push import start_worker, stop_worker

POLL_MINUTES = 5
INTERVALS = 2


def arguments(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--staff", type=int, default=10_000)
    parser.add_argument("--tick", type=float, default=6.0, help="real seconds per simulated minute")
    args = parser.parse_args(argv)
    if args.quick:
        args.staff, args.tick = 60, 1.0
    return args


def sample_requests(env, stop: threading.Event, per_second: list[int]) -> None:
    """Google requests that arrived in each real second, until ``stop``."""
    last = common.http_requests(common.emulator_stats(env))
    while not stop.wait(1.0):
        now = common.http_requests(common.emulator_stats(env))
        per_second.append(now - last)
        last = now


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv if argv is not None else sys.argv[1:])
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    os.environ.update(REDIS_URL=redis_url, GOOGLE_BACKOFF_BASE_SECONDS="1", GOOGLE_BACKOFF_MAX_SECONDS="5")
    os.environ["GOOGLE_POLL_MINUTES"] = str(POLL_MINUTES)
    env = common.setup("scale")
    Figure = common.Figure

    from django.utils import timezone

    from calendars.services import Overrides, appointment_book
    from integrations import queue
    from integrations.google import mapping, pull
    from integrations.models import EventLink, GoogleConnection

    members = []
    for number in range(max(1, args.staff // 10)):
        practice = common.make_practice(f"p{number}")
        members += common.make_staff(practice, 10, prefix=f"s{number}-")
    connections = {m.pk: common.connect(env, m) for m in members}
    for connection in connections.values():
        pull.pull_account(connection.pk)  # the first full sync: polls are incremental from here
    common.google_post(env, "/_emulator/quotas", {"enabled": True})
    common.set_faults(env, rate=0.1)
    common.reset_stats(env)

    log = env.tmp / "qcluster.log"
    workers = [start_worker(env, log) for _ in range(2)]
    stop, per_second = threading.Event(), []
    sampler = threading.Thread(target=sample_requests, args=(env, stop, per_second), daemon=True)
    sampler.start()
    interval = POLL_MINUTES * 60
    ids = [c.pk for c in connections.values()]
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    per_minute, enqueued_at, lags = [], {}, []
    booked = []
    to_book = members[:: max(1, len(members) // 1000)]  # up to 1,000 bookings over the run
    ticks = POLL_MINUTES * INTERVALS
    try:
        for tick in range(ticks):
            began = time.monotonic()
            # Lag of the previous slice: enqueue → the pull recorded its success.
            synced = dict(
                GoogleConnection.objects.filter(pk__in=enqueued_at).values_list("pk", "last_sync_at")
            )
            lags += [
                (synced[pk] - at).total_seconds()
                for pk, at in enqueued_at.items()
                if synced[pk] and synced[pk] >= at
            ]
            low = (tick * 60) % interval
            enqueued_at = {pk: timezone.now() for pk in ids if low <= pull.poll_slot(pk, interval) < low + 60}
            per_minute.append(pull.poll_due(now=start + timedelta(minutes=tick, seconds=30)))
            for member in to_book[tick::ticks]:
                at = (
                    timezone.now().astimezone(member.practice.zone).replace(minute=0, second=0, microsecond=0)
                )
                at += timedelta(days=2 + len(booked) % 20)
                booked.append(
                    appointment_book(
                        practice=member.practice,
                        staff=member,
                        start=at,
                        end=at + timedelta(minutes=30),
                        title="Scale",
                        created_by=None,
                        overrides=Overrides(outside_hours=True, busy_time=True),
                    ).appointment
                )
            time.sleep(max(0.0, args.tick - (time.monotonic() - began)))
        import requests

        quotas = requests.get(env.emulator_url + "/_emulator/quotas", timeout=30).json()  # before a reset
        common.set_faults(env)
        common.google_post(env, "/_emulator/quotas", {"enabled": False})

        def drained() -> bool:
            due = set(EventLink.objects.filter(needs_push=True).values_list("member__user_id", flat=True))
            for connection in connections.values():
                if connection.user_id in due:
                    queue.send_push(connection.pk)  # what the every-minute drain does
            return not due

        # Like the every-minute drain, but every 10 s: enqueuing faster only piles up the queue.
        common.wait_for(lambda: drained() or time.sleep(10), timeout=600)
    finally:
        stop.set()
        for worker in workers:
            stop_worker(worker)
    stats = common.emulator_stats(env)

    from integrations.services import open_session

    lost = duplicated = 0
    by_member: dict[int, Counter] = {}
    for appointment in booked:
        counts = by_member.get(appointment.staff_id)
        if counts is None:
            connection = connections[appointment.staff_id]
            items = open_session(connection).find_tagged_events(
                connection.google_email, {mapping.TAG_APP: "1"}
            )
            counts = by_member[appointment.staff_id] = Counter(
                mapping.our_tags(e).get(mapping.TAG_APPOINTMENT) for e in items
            )
        found = counts[str(appointment.pk)]
        lost += found == 0
        duplicated += max(0, found - 1)

    mean_minute = sum(per_minute) / len(per_minute)
    spread = max(per_minute) / mean_minute if mean_minute else float("nan")
    busy_seconds = [n for n in per_second if n] or [0]
    second_ratio = max(busy_seconds) / (sum(busy_seconds) / len(busy_seconds)) if any(busy_seconds) else 0
    p95 = common.percentile(lags, 0.95)
    figures = [
        Figure(
            "polls per simulated minute, busiest ÷ mean",
            round(spread, 2),
            "×",
            "≤ 1.5×",
            spread <= 1.5,
            f"{len(ids):,} connections, {INTERVALS} intervals of {POLL_MINUTES} min, "
            f"{sum(per_minute):,} polls",
        ),
        Figure(
            "Google requests per real second, busiest ÷ mean",
            round(second_ratio, 2),
            "×",
            note=f"compressed time: a simulated minute lasts {args.tick:g} s; a tick's slice comes at once",
        ),
        Figure(
            "quota refusals by Google (per user + per project)",
            quotas["refused"]["user"] + quotas["refused"]["project"],
            "requests",
            note=f"600/min/user, 10,000/min/project; refused {quotas['refused']}; refusals back off",
        ),
        Figure(
            "queue lag p95 (enqueue → pull recorded)",
            round(p95, 2),
            "s",
            note=f"{len(lags)} pulls, 2 qcluster processes, Redis broker",
        ),
        Figure("bookings lost", lost, "events", "0", lost == 0, f"{len(booked)} bookings under 10% faults"),
        Figure("bookings duplicated", duplicated, "events", "0", duplicated == 0),
    ]
    rows = [{"minute": n, "polls": count} for n, count in enumerate(per_minute)]
    common.report("scale", rows, figures, quick=args.quick, env=env)
    print("google requests", common.http_requests(stats))
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
