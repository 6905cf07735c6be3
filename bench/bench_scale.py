"""Internet scale, simulated: 10,000 connected staff polled and pushing against the emulator, in real time.

1,000 practices of ten staff, each with a connected Google calendar, set up in bulk as connect +
the first full pull leave them (``common.make_practices_in_bulk``, ``common.connect_in_bulk``:
tokens encrypted, sync tokens stored, so every poll is incremental). Two ``qcluster`` processes
on a Redis broker (``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/13``: a database number
of this bench's own, flushed first; 3 workers each unless ``Q_WORKERS`` says otherwise) run the
product's own schedules: the every-minute poll (each connection once per ``GOOGLE_POLL_MINUTES``,
paced to its own second; once a day a connection's poll is its full pull) and outbox drain.

1. Capacity: pulls of a few thousand connections enqueued at once, faults and quotas off: how
   many idle polls per second the two clusters finish here.
2. One real poll interval (5 minutes by default), quotas on (600/min/user, 10,000/min/project),
   10% of Google requests failing, a booking every few hundred milliseconds. Measured: Google
   requests per real second over the interval (busiest second ÷ mean, and per minute), queue lag
   (a pull's planned send → its calendar's sync recorded) p95, quota refusals.
3. Faults stop, outboxes drain; every booking must be in Google exactly once. Then the DB queries
   of an idle poll of a sample of connections (the function the worker runs, in-process).

Every linked calendar is watched (``PUBLIC_BASE_URL`` points at a loopback sink that answers
200: the notifications' own work is not measured here), with 1 to 7 days left as in a steady
state, so the channels crossing into their last day during the run are renewed by their polls.
Not in the window: the 6-hourly health check (its next run is moved past it, as on a running
deployment; it skips polled connections).

    python bench/bench_scale.py [--quick] [--staff 10000] [--poll-minutes 5]
"""

from __future__ import annotations

import argparse
import os
import random
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

STAFF_PER_PRACTICE = 10
SPREAD_TARGET = 1.5


def arguments(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--staff", type=int, default=10_000)
    parser.add_argument("--poll-minutes", type=int, default=5, help="the real poll interval measured")
    parser.add_argument("--bookings", type=int, default=1000, help="bookings made during the interval")
    parser.add_argument(
        "--capacity", type=int, default=3000, help="pulls enqueued at once to measure capacity"
    )
    parser.add_argument("--capacity-only", action="store_true", help="stop after measuring capacity")
    args = parser.parse_args(argv)
    if args.quick:
        args.staff, args.poll_minutes, args.bookings, args.capacity = 120, 1, 30, 120  # paced: 60+ a run
    return args


def progress(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def start_sink() -> tuple[str, list[int]]:
    """A loopback HTTP server that answers 200 to anything: where the channels' notifications go
    (the webhook's own work is not what this bench measures). Returns its address and a counter."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = [0]

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", received


def per_second_requests(env) -> dict[int, int]:
    import requests

    answer = requests.get(env.emulator_url + "/_emulator/stats/seconds", timeout=30).json()
    return {int(second): n for second, n in answer["seconds"].items()}


def queue_length(redis_url: str) -> int:
    import redis
    from django_q.brokers import get_broker

    return redis.Redis.from_url(redis_url).llen(get_broker().list_key)


def measure_capacity(env, redis_url: str, ids: list[int]) -> tuple[float, int]:
    """Idle pulls of ``ids`` enqueued at once: (pulls finished per second, how many)."""
    from django.utils import timezone

    from integrations import queue
    from integrations.models import GoogleCalendar

    began, started = timezone.now(), time.monotonic()
    for pk in ids:
        queue.send_pull(pk)

    def finished() -> int:
        return GoogleCalendar.objects.filter(connection_id__in=ids, last_synced_at__gte=began).count()

    common.wait_for(lambda: queue_length(redis_url) == 0 and finished() == len(ids), timeout=900, interval=1)
    return len(ids) / (time.monotonic() - started), len(ids)


def book_steadily(members, count: int, seconds: float, booked: list, stop: threading.Event) -> None:
    """``count`` bookings, one every ``seconds / count``, as the front desks would make them."""
    from django.db import connection as db
    from django.utils import timezone

    from calendars.services import Overrides, appointment_book

    gap = seconds / max(1, count)
    try:
        for number, member in enumerate(members[:count]):
            if stop.wait(gap):
                return
            at = timezone.now().astimezone(member.practice.zone).replace(minute=0, second=0, microsecond=0)
            at += timedelta(days=2 + number % 20)
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
    finally:
        db.close()


def planned_sends(ids: list[int], first_run: float, minutes: int, interval: int) -> dict[int, float]:
    """When the paced poll schedule sends each connection's pull in the runs planned at
    ``first_run``, ``first_run + 60``, ... (``pull.poll_due``'s arithmetic)."""
    from integrations.google import pull

    sends: dict[int, float] = {}
    for run in range(minutes):
        planned = first_run + 60 * run
        low = int(planned) // 60 * 60 % interval
        by_second: dict[int, list[int]] = {}
        for pk in ids:
            slot = pull.poll_slot(pk, interval)
            if low <= slot < low + 60:
                by_second.setdefault(slot - low, []).append(pk)
        for second, group in by_second.items():
            for number, pk in enumerate(sorted(group)):
                sends[pk] = planned + pull.POLL_PACE_DELAY_SECONDS + second + number / len(group)
    return sends


def idle_poll_queries(connection_ids: list[int]) -> list[int]:
    """DB queries of one idle poll (``pull.pull_account``, what the worker's task runs) per connection."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from integrations.google import pull

    counts = []
    for pk in connection_ids:
        pull.pull_account(pk)  # anything left over from the run is read now
        with CaptureQueriesContext(db) as queries:
            result = pull.pull_account(pk)
        if result.get("pages") == 1 and not result.get("failed"):
            counts.append(len(queries.captured_queries))
    return counts


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv if argv is not None else sys.argv[1:])
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    os.environ.update(REDIS_URL=redis_url, GOOGLE_BACKOFF_BASE_SECONDS="1", GOOGLE_BACKOFF_MAX_SECONDS="5")
    os.environ["GOOGLE_POLL_MINUTES"] = str(args.poll_minutes)
    sink, notified = start_sink()
    os.environ["PUBLIC_BASE_URL"] = sink  # push channels on: the poll renews them
    # Per cluster: the paced poll run and outbox drain each keep a worker, mostly asleep.
    os.environ.setdefault("Q_WORKERS", "3")
    env = common.setup("scale")
    Figure = common.Figure

    from django.conf import settings
    from django.utils import timezone
    from django_q.models import Schedule

    from integrations import queue
    from integrations.google import mapping
    from integrations.google.channels import RENEW_BEFORE
    from integrations.models import EventLink, GoogleCalendar, WatchChannel
    from integrations.services import open_session

    began = time.monotonic()
    practices = max(1, args.staff // STAFF_PER_PRACTICE)
    members = common.make_practices_in_bulk(practices, STAFF_PER_PRACTICE)
    # Channels as in a steady state: each has between a day and its whole lifetime left, so those
    # crossing into the last day during the run are renewed by their polls.
    lifetimes = random.Random(3)
    longest = settings.GOOGLE_CHANNEL_TTL_SECONDS
    shortest = int(RENEW_BEFORE.total_seconds()) + 60
    connections = common.connect_in_bulk(
        env, members, channel_ttl=lambda: lifetimes.randint(shortest, longest)
    )
    setup_seconds = time.monotonic() - began
    seeded_at = timezone.now()
    ids = sorted(c.pk for c in connections.values())
    progress(f"{len(ids):,} connected staff in {practices:,} practices set up in {setup_seconds:.1f} s")
    common.wait_for(lambda: notified[0] >= len(ids), timeout=300, interval=1)  # the channels' sync messages

    # A deployment's daily and 6-hourly jobs are not due in this window (they would be, at first
    # start, since migrate just installed them); the poll starts when the bench says so.
    later = timezone.now() + timedelta(days=1)
    Schedule.objects.filter(func="integrations.tasks.check_all_connections").update(next_run=later)
    poll_schedule = Schedule.objects.filter(func="integrations.tasks.poll_connections")
    poll_schedule.update(next_run=later)

    log = env.tmp / "qcluster.log"
    workers = [start_worker(env, log) for _ in range(2)]
    stop = threading.Event()
    booked: list = []
    try:
        capacity_ids = random.Random(15).sample(ids, min(args.capacity, len(ids)))
        capacity, probed = measure_capacity(env, redis_url, capacity_ids)
        progress(f"capacity: {probed:,} idle pulls enqueued at once ran at {capacity:.1f} pulls/s")
        if args.capacity_only:
            return 0

        common.reset_stats(env)
        common.google_post(env, "/_emulator/quotas", {"enabled": True})
        common.set_faults(env, rate=0.1)
        interval = args.poll_minutes * 60
        first_run = time.time() + 5
        poll_schedule.update(next_run=datetime.fromtimestamp(first_run, UTC))
        sends = planned_sends(ids, first_run, args.poll_minutes, interval)
        window = (int(first_run) + 30, int(first_run) + 30 + interval)  # the paced sends of one interval
        progress(
            f"one {args.poll_minutes}-minute interval: {len(ids) / interval:.1f} polls/s planned, "
            f"{args.bookings} bookings, 10% faults, quotas on; window ends in {window[1] - time.time():.0f} s"
        )
        booker = threading.Thread(
            target=book_steadily,
            args=(random.Random(1).sample(members, len(members)), args.bookings, interval, booked, stop),
            daemon=True,
        )
        booker.start()
        synced: dict[int, float] = {}  # connection → first sync of its linked calendar after its send
        since = timezone.now()
        while time.time() < window[1] + 20:
            time.sleep(5)
            now, sampled = time.time(), timezone.now()
            for pk, at in GoogleCalendar.objects.filter(last_synced_at__gte=since).values_list(
                "connection_id", "last_synced_at"
            ):
                # (a connection whose poll failed is polled again an interval later: not this one)
                if pk not in synced and at is not None and 0 <= at.timestamp() - sends[pk] + 0.5 < interval:
                    synced[pk] = at.timestamp()
            since = sampled - timedelta(seconds=2)  # a pull records its start time, and commits later
            left = max(0, window[1] - now)
            progress(
                f"{len(synced):,} of {len(ids):,} polled, queue {queue_length(redis_url)}, "
                f"{len(booked)} booked, {left:.0f} s of the interval left"
            )
        booker.join(timeout=60)
        renewed = WatchChannel.objects.filter(created__gt=seeded_at).count()
        came_due = WatchChannel.objects.filter(
            created__lte=seeded_at, expiration__lt=datetime.fromtimestamp(window[1], UTC) + RENEW_BEFORE
        ).count()
        import requests

        quotas = requests.get(env.emulator_url + "/_emulator/quotas", timeout=30).json()  # before a reset
        seconds = per_second_requests(env)
        common.set_faults(env)
        common.google_post(env, "/_emulator/quotas", {"enabled": False})
        progress("faults and quotas off; draining the outboxes")

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
    progress("drained; checking every booking in Google")

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
    queries = idle_poll_queries(random.Random(2).sample(ids, min(50, len(ids))))

    in_window = [seconds.get(second, 0) for second in range(*window)]
    mean = sum(in_window) / len(in_window)
    busiest = max(in_window)
    p99 = common.percentile(in_window, 0.99)
    per_minute = [sum(in_window[m : m + 60]) for m in range(0, len(in_window), 60)]
    minute_ratio = max(per_minute) / (sum(per_minute) / len(per_minute)) if any(per_minute) else 0
    lags = [synced[pk] - sends[pk] for pk in synced]
    p95 = common.percentile(lags, 0.95)
    planned_rate = len(ids) / interval
    figures = [
        Figure(
            "setup of the connected staff (bulk, as after connect + first pull)",
            round(setup_seconds, 1),
            "s",
            note=f"{len(ids):,} connections in {practices:,} practices",
        ),
        Figure(
            "idle polls per second, 2 qcluster processes (queue full)",
            round(capacity, 1),
            "polls/s",
            note=f"{probed:,} pulls enqueued at once, no faults; Q_WORKERS {os.environ['Q_WORKERS']} "
            f"per cluster; the interval asks {planned_rate:.1f}/s",
        ),
        Figure(
            "Google requests per real second over one poll interval, busiest ÷ mean",
            round(busiest / mean, 2) if mean else float("nan"),
            "×",
            None if args.quick else f"≤ {SPREAD_TARGET}×",  # a mean of 1/s is all noise
            None if args.quick else bool(mean) and busiest / mean <= SPREAD_TARGET,
            f"{args.poll_minutes} real minutes, {len(ids):,} connections: mean {mean:.1f}/s, busiest "
            f"{busiest}/s, 99th percentile {p99}/s; per minute busiest ÷ mean {minute_ratio:.3f}× "
            "(polls, daily full pulls, pushes)",
        ),
        Figure(
            "Google requests per real second over the interval, 99th percentile ÷ mean",
            round(p99 / mean, 2) if mean else float("nan"),
            "×",
            note=f"{sum(n < mean / 2 for n in in_window)} seconds below half the mean: a stall of the "
            "shared machine holds the queue, and the workers catch up at full speed after it",
        ),
        Figure(
            "channel renewals during the run (by the polls)",
            renewed,
            "channels",
            note=f"{came_due} of {len(ids):,} channels came within a day of expiry by the interval's end "
            "(lifetimes left spread over 1–7 days, as in a steady state); a poll that failed renews "
            "at the next one",
        ),
        Figure(
            "connections polled in the interval",
            len(synced),
            "connections",
            note=f"of {len(ids):,}; the rest had their one request fail (10% faults): a failed "
            "poll backs off and comes again at its next slot",
        ),
        Figure(
            "quota refusals by Google (per user + per project)",
            quotas["refused"]["user"] + quotas["refused"]["project"],
            "requests",
            note=f"600/min/user, 10,000/min/project; refused {quotas['refused']}",
        ),
        Figure(
            "queue lag p95 (planned send → pull recorded)",
            round(p95, 2),
            "s",
            note=f"{len(lags):,} pulls; median {common.median(lags):.2f} s; 2 qcluster processes, Redis",
        ),
        Figure(
            "DB queries per idle poll per connection",
            max(queries) if queries else None,
            "queries",
            "≤ 3",
            bool(queries) and max(queries) <= 3,
            f"most of {len(queries)} idle polls of the 10,000-staff database (pull.pull_account)",
        ),
        Figure("bookings lost", lost, "events", "0", lost == 0, f"{len(booked)} bookings under 10% faults"),
        Figure("bookings duplicated", duplicated, "events", "0", duplicated == 0),
    ]
    rows = [
        {"minute": n, "google_requests": count, "per_second_busiest": max(in_window[n * 60 : n * 60 + 60])}
        for n, count in enumerate(per_minute)
    ]
    common.report("scale", rows, figures, quick=args.quick, env=env, requests_per_second=in_window)
    ok = lost == 0 and duplicated == 0 and bool(queries) and max(queries) <= 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
