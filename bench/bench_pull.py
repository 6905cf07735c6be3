"""Google → Copilot, the pull issue's figures, measured side by side in one run.

(a) Incremental sync of many changed events: throughput (events/s) and peak memory (tracemalloc)
    at 2,000 and at 10,000 events, to show that memory does not grow with the number of events.
(b) An idle poll: HTTP requests per calendar when nothing changed.
(c) An edit in Google → the appointment updated, through the webhook path: Google (the emulator)
    posts a notification to a running server, which pulls inline (median over 20 edits).

The emulator runs in a child process (``common.setup``), so tracemalloc sees the pull's
allocations only, not the emulator building its answers.

    python bench/bench_pull.py [--quick]
"""

from __future__ import annotations

import json
import sys
import threading
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def setup(name: str) -> common.Env:
    """``common.setup`` with tasks inline (Q_SYNC): the webhook figure runs the pull on notification."""
    return common.setup(name, q_sync=True)


# --- (a) throughput and memory ---------------------------------------------------------------------------


def _write_events(session, calendar_id: str, count: int, *, edit: bool = False, prefix: str = "") -> None:
    """Insert ``count`` plain events spread over the sync window (or edit them), 1,000 per batch request."""
    from integrations.google import client

    first = datetime.now().astimezone() + timedelta(hours=1)
    ops = []
    for number in range(count):
        event_id = f"{prefix}{number:08d}"
        if edit:
            ops.append(client.EventOp("patch", calendar_id, event_id, body={"summary": f"Edited {number}"}))
            continue
        start = first + timedelta(minutes=25 * number)
        body = {
            "id": event_id,
            "summary": f"Errand {number}",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=20)).isoformat()},
        }
        ops.append(client.EventOp("insert", calendar_id, event_id, body=body))
    failed = [r for r in session.run_batch(ops, batch_size=1000) if isinstance(r, Exception)]
    if failed:
        raise RuntimeError(f"{len(failed)} writes failed, first: {failed[0]}")


def incremental_sync(env: common.Env, member, connection, count: int, prefix: str) -> dict:
    """Throughput on new events; peak memory on the same events edited (both incremental syncs)."""
    from integrations.google import pull
    from integrations.models import BusyBlock
    from integrations.services import open_session

    calendar = connection.calendars.get(is_linked=True)
    pull.pull_one_calendar(calendar.pk)  # the first (full) sync: from here on, a token
    session = open_session(connection)
    _write_events(session, calendar.calendar_id, count, prefix=prefix)
    began = time.perf_counter()
    result = pull.pull_one_calendar(calendar.pk)
    seconds = time.perf_counter() - began
    stored = BusyBlock.objects.filter(calendar=calendar).count()

    _write_events(session, calendar.calendar_id, count, edit=True, prefix=prefix)
    tracemalloc.start()
    pull.pull_one_calendar(calendar.pk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "events": count,
        "stored": stored,
        "pages": result.get("pages"),
        "seconds": round(seconds, 2),
        "events_per_s": round(count / seconds),
        "peak_mib": round(peak / 2**20, 1),
    }


# --- (b) idle poll ------------------------------------------------------------------------------------------


def idle_poll(env: common.Env, connections) -> dict:
    from integrations.google import pull
    from integrations.models import GoogleCalendar

    pull.poll_all()  # every calendar has its token now
    common.reset_stats(env)
    pull.poll_all()
    requests_made = common.http_requests(common.emulator_stats(env))
    calendars = GoogleCalendar.objects.filter(connection__in=connections, is_linked=True).count()
    return {"calendars": calendars, "requests": requests_made, "per_calendar": requests_made / calendars}


# --- (c) webhook latency ----------------------------------------------------------------------------------


def serve_django() -> str:
    """Django in a thread on a free loopback port (a real HTTP server, as in production); its URL."""
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = WSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def webhook_latency(env: common.Env, member, connection, edits: int) -> list[float]:
    from django.conf import settings

    from calendars.models import Appointment
    from calendars.services import appointment_book
    from integrations.google import pull, push
    from integrations.models import EventLink, WatchChannel
    from integrations.services import open_session

    settings.PUBLIC_BASE_URL = serve_django()
    pull.pull_account(connection.pk, ensure_channels=True)
    assert WatchChannel.objects.filter(calendar__connection=connection, stopped_at__isnull=True).exists()
    zone = member.practice.zone
    day = datetime.now(zone).date() + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 9, tzinfo=zone)
    appointment = appointment_book(
        practice=member.practice,
        staff=member,
        start=start,
        end=start + timedelta(minutes=30),
        title="Check-up",
        created_by=None,
    ).appointment
    push.push_due_links(connection.pk)
    event_id = common.wait_for(
        lambda: (
            EventLink.objects.filter(appointment=appointment)
            .exclude(event_id="")
            .values_list("event_id", flat=True)
            .first()
        ),
        10,
    )
    session = open_session(connection)
    from integrations.google import client

    latencies = []
    for number in range(edits):
        new_start = start + timedelta(minutes=30 * (number + 1))
        body = {
            "start": {"dateTime": new_start.isoformat()},
            "end": {"dateTime": (new_start + timedelta(minutes=30)).isoformat()},
        }
        began = time.perf_counter()
        session.run(
            client.EventOp("patch", connection.calendars.get(is_linked=True).calendar_id, event_id, body=body)
        )
        common.wait_for(lambda s=new_start: Appointment.objects.get(pk=appointment.pk).start == s, 10, 0.002)
        latencies.append(time.perf_counter() - began)
    return latencies


def main(argv: list[str] | None = None) -> int:
    quick = common.quick_flag(argv)
    env = setup("pull")
    sizes = (200, 1000) if quick else (2000, 10000)
    edits = 5 if quick else 20
    Figure = common.Figure
    try:
        practice = common.make_practice("pull")
        members = common.make_staff(practice, 3)
        connections = [common.connect(env, m) for m in members]
        rows = [
            incremental_sync(env, members[i], connections[i], size, prefix=f"b{i}")
            for i, size in enumerate(sizes)
        ]
        poll = idle_poll(env, connections)
        latencies = webhook_latency(env, members[2], connections[2], edits)
    finally:
        common.stop_emulator(env.emulator)
    small, large = rows
    growth = large["peak_mib"] / small["peak_mib"]
    median_ms = common.median(latencies) * 1000
    figures = [
        Figure(
            f"(a) incremental sync of {large['events']:,} changed events: throughput",
            large["events_per_s"],
            "events/s",
            note=f"{large['seconds']} s, {large['pages']} pages ({env.database})",
        ),
        Figure(f"(a) … of {small['events']:,} events: throughput", small["events_per_s"], "events/s"),
        Figure(
            f"(a) peak memory at {small['events']:,} events", small["peak_mib"], "MiB", note="tracemalloc"
        ),
        Figure(
            f"(a) peak memory at {large['events']:,} events", large["peak_mib"], "MiB", note="tracemalloc"
        ),
        Figure(
            "(a) memory growth for 5× the events",
            round(growth, 2),
            "×",
            None if quick else "≤ 1.5×",
            None if quick else growth <= 1.5,
            "pages are processed streaming, 1,000 events each",
        ),
        Figure(
            "(b) idle poll: requests per calendar",
            poll["per_calendar"],
            "requests",
            "exactly 1",
            poll["per_calendar"] == 1,
            f"{poll['requests']} requests for {poll['calendars']} calendars",
        ),
        Figure(
            "(c) edit in Google → appointment updated (webhook), median",
            round(median_ms, 1),
            "ms",
            "< 2000 ms",
            median_ms < 2000,
            f"{len(latencies)} edits; pull inline on notification; p95 "
            f"{common.percentile(latencies, 0.95) * 1000:.0f} ms",
        ),
    ]
    common.report("pull", rows, figures, quick=quick, env=env, poll=poll)
    print(json.dumps({"name": "pull", "rows": rows, "poll": poll, "webhook_median_ms": round(median_ms, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
