"""The portal under 20 concurrent clients: Calendars week view and Connections tab, requests/s and p95.

gunicorn (``copilot.wsgi``, 3 sync workers) on PostgreSQL, logged-in sessions, a bounded number
of requests per page. Needs PostgreSQL: ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``); without a reachable server it says so and
records a skipped result.

    python bench/bench_portal.py [--quick]
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

CLIENTS = 20
WORKERS = 3
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# Nothing changes during the run: after a client's first view in each worker, the week is that
# worker's stored page (docs/ARCHITECTURE.md, "Stored pages"); bench_week.py times a redraw.
STORED = {"week": "; an unchanged week: mostly stored pages (see bench_week for a redraw)"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(env: common.Env) -> list:
    """A practice of 10 staff with a busy fortnight, 3 of them connected to Google; returns people."""
    from copilot.accounts.models import Membership

    practice = common.make_practice("portal")
    staff = common.make_staff(practice, 10)
    for offset, member in enumerate(staff):
        common.add_participants(
            common.upcoming_appointments(member, 80, per_day=8, first_day=-7 + offset % 3)
        )
    for member in staff[:3]:
        common.connect(env, member)
    admins = common.make_staff(practice, CLIENTS, prefix="desk", role=Membership.Role.ADMIN)
    return admins


def sessions_for(members) -> list[str]:
    """A session cookie for each member, as a login would leave it."""
    from django.test import Client

    cookies = []
    for member in members:
        client = Client()
        client.force_login(member.user)
        cookies.append(client.cookies["sessionid"].value)
    return cookies


def start_gunicorn(env: common.Env, port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "copilot.wsgi",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=common.ROOT,
            env=env.child_env(Q_SYNC="0", ALLOWED_HOSTS="127.0.0.1,localhost"),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def hammer(base: str, path: str, cookies: list[str], total: int) -> tuple[list[float], float, int]:
    """``total`` GETs of ``path`` from len(cookies) concurrent clients; (latencies, wall seconds, errors)."""
    import requests

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = [total // len(cookies) + (1 if n < total % len(cookies) else 0) for n in range(len(cookies))]

    def client(cookie: str, count: int) -> None:
        nonlocal errors
        with requests.Session() as session:
            session.cookies.set("sessionid", cookie)
            for _ in range(count):
                started = time.perf_counter()
                answer = session.get(base + path, timeout=60, allow_redirects=False)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += answer.status_code != 200

    started = time.perf_counter()
    with ThreadPoolExecutor(len(cookies)) as pool:
        for future in [pool.submit(client, c, n) for c, n in zip(cookies, per_client, strict=True)]:
            future.result()
    return latencies, time.perf_counter() - started, errors


def main(argv: list[str] | None = None) -> int:
    quick = common.quick_flag(argv)
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    why = postgres_problem(url)
    if why:
        print(f"bench_portal: skipped, PostgreSQL is not reachable at {url} ({why})")
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        common.report("portal", [], [common.Figure("skipped", why)], quick=quick, database="")
        return 0
    env = common.setup("portal", database_url=url)
    per_page = 60 if quick else 600
    admins = seed(env)
    cookies = sessions_for(admins)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(env, port, env.tmp / "gunicorn.log")
    import requests

    try:
        common.wait_for(lambda: _answers(requests, base), timeout=60, interval=0.1)
        pages = {"week": "/calendars/week/", "connections": "/calendars/settings/connections/"}
        for path in pages.values():  # warm every worker up (imports, template loading)
            hammer(base, path, cookies[:WORKERS], WORKERS * 2)
        figures, rows = [], []
        for name, path in pages.items():
            latencies, seconds, errors = hammer(base, path, cookies, per_page)
            rate = len(latencies) / seconds
            p95 = common.percentile(latencies, 0.95) * 1000
            figures.append(
                common.Figure(
                    f"{name} ({path}) requests/s",
                    round(rate, 1),
                    "req/s",
                    None,
                    None,
                    f"{len(latencies)} requests, {CLIENTS} clients, {WORKERS} gunicorn workers, "
                    f"{errors} errors" + STORED.get(name, ""),
                )
            )
            figures.append(
                common.Figure(
                    f"{name} p95 latency",
                    round(p95, 1),
                    "ms",
                    None,
                    None,
                    f"median {common.median(latencies) * 1000:.1f} ms",
                )
            )
            rows.append(
                {"page": name, "requests": len(latencies), "errors": errors, "seconds": round(seconds, 2)}
            )
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    common.report("portal", rows, figures, quick=quick, env=env)
    return 0


def _answers(requests, base: str) -> bool:
    try:
        return requests.get(base + "/accounts/login/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def postgres_problem(url: str) -> str:
    if not url.startswith(("postgres://", "postgresql://")):
        return f"DATABASE_URL is not PostgreSQL ({url.split(':', 1)[0]})"
    return common.postgres_reachable(url)


if __name__ == "__main__":
    sys.exit(main())
