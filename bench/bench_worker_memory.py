"""Memory of a worker process after syncing 50 connections.

The parent prepares 50 connected staff members (each with upcoming appointments to push and
personal events in Google to pull). A fresh child process then runs the resync task of every
connection one after another, as a django-q2 worker process would, and reports its resident
set size (VmRSS) before and after, and the Python heap peak seen by tracemalloc.

    python bench/bench_worker_memory.py [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child() -> None:
    """Runs in the measured process: sync every connection, print one JSON line."""
    import tracemalloc

    import django

    django.setup()
    from integrations import tasks
    from integrations.models import GoogleConnection

    ids = list(GoogleConnection.objects.order_by("pk").values_list("pk", flat=True))
    tasks.resync_connection(ids[0])  # imports, client discovery documents, caches: not growth
    before = vm_rss_mb()
    tracemalloc.start()
    for connection_id in ids:
        tasks.resync_connection(connection_id)
    for connection_id in ids:
        tasks.sync_connection(connection_id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "connections": len(ids),
                "rss_before_mb": before,
                "rss_after_mb": vm_rss_mb(),
                "tracemalloc_peak_mb": peak / 2**20,
            }
        )
    )


def seed(env: common.Env, connections: int, appointments: int, personal: int) -> None:
    practice = common.make_practice("memory")
    for member in common.make_staff(practice, connections):
        common.connect(env, member)
        common.upcoming_appointments(member, appointments, per_day=10)
        email = member.user.email
        for number in range(personal):
            start = f"2030-01-{1 + number % 28:02d}T12:00:00Z"
            common.google_post(
                env,
                f"/_emulator/calendars/{email}/events",
                {
                    "summary": f"Errand {number}",
                    "start": {"dateTime": start},
                    "end": {"dateTime": start[:11] + "13:00:00Z"},
                },
            )


def main(argv: list[str] | None = None) -> int:
    if "--child" in (argv or sys.argv[1:]):
        child()
        return 0
    quick = common.quick_flag(argv)
    connections, appointments, personal = (5, 10, 5) if quick else (50, 40, 20)
    env = common.setup("worker_memory")
    seed(env, connections, appointments, personal)
    answer = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child"],
        cwd=common.ROOT,
        env=env.child_env(Q_SYNC="1", LOG_LEVEL="WARNING"),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if answer.returncode != 0:
        print(answer.stdout[-3000:], answer.stderr[-3000:], sep="\n")
        return answer.returncode
    measured = json.loads(answer.stdout.strip().splitlines()[-1])
    after, growth = measured["rss_after_mb"], measured["rss_after_mb"] - measured["rss_before_mb"]
    figures = [
        common.Figure(
            f"worker RSS after syncing {measured['connections']} connections",
            round(after, 1),
            "MB",
            None,
            None,
            f"{appointments} appointments and {personal} personal events each; resync, then push + pull",
        ),
        common.Figure(
            "RSS growth over the run", round(growth, 1), "MB", note="after the first connection's sync"
        ),
        common.Figure("Python heap peak (tracemalloc)", round(measured["tracemalloc_peak_mb"], 1), "MB"),
    ]
    common.report("worker_memory", [measured], figures, quick=quick, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
