"""What every benchmark shares: a throwaway environment, people to sync, and the results format.

Call ``setup(name)`` before importing anything of Django. It sets the environment
(``DJANGO_SETTINGS_MODULE``, ``DEBUG=1``, a secret), creates a fresh database (a temporary
SQLite file, or with ``DATABASE_URL`` a new PostgreSQL database with a name unique to this run,
``copilot_bench_<name>_<pid>_<random>``, dropped when the run ends: a benchmark never drops a
database it did not create, so it can share a server with other people's work),
starts the Google emulator on a free loopback port, runs ``django.setup()`` and migrates.

Results: ``report(name, rows, figures)`` prints a table and writes ``bench/results/<name>.json``::

    {"name": "push", "date": "...", "quick": false, "database": "sqlite",
     "figures": [{"figure": "...", "value": 1.0, "unit": "ms", "target": "≤ 25", "met": true,
                  "note": "..."}],
     "rows": [{...}, ...]}

``bench/run.py`` renders every such file into docs/PERFORMANCE.md; ``target`` and ``met`` may be
null for figures that are measured without a target.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Env:
    name: str
    database: str  # "sqlite" or "postgresql"
    database_url: str
    emulator_url: str
    emulator: object
    tmp: Path

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment a subprocess (worker, web server) needs to share this run's setup."""
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "GOOGLE_EMULATOR_URL": self.emulator_url,
            "DJANGO_SETTINGS_MODULE": "copilot.settings",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(extra)
        return env


def _unique_database_name(name: str) -> str:
    """``copilot_bench_<name>_<pid>_<8 hex>``: no other run (here or elsewhere) picks the same."""
    return f"copilot_bench_{name}_{os.getpid()}_{secrets.token_hex(4)}"[:63]


def _create_postgres(url: str, database: str) -> str:
    """Create ``database`` (it must not exist) on the server of ``url``; returns the URL naming it.

    Never drops anything: the name is unique to this run (``_unique_database_name``), and
    ``_drop_postgres`` removes it when the process exits.
    """
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    return urlunsplit(parts._replace(path=f"/{database}"))


def _drop_postgres(url: str, database: str) -> None:
    """Drop the database this run created, once its own connections are gone.

    Only ever called with the name ``_create_postgres`` made for this run. Django's connections
    are closed first; a child process (web server, worker) may take a moment to let go, so the
    drop is retried for a few seconds before saying which database was left behind.
    """
    import psycopg

    with contextlib.suppress(Exception):  # Django may not be set up (a failed run)
        from django.db import connections

        connections.close_all()
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            return
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                print(f"bench: could not drop {database} (still in use); drop it by hand", file=sys.stderr)
                return
            time.sleep(0.2)
        except psycopg.Error as error:
            print(f"bench: could not drop {database}: {error}", file=sys.stderr)
            return


def postgres_reachable(url: str) -> str:
    """ "" when the server of ``url`` answers, else why not."""
    try:
        import psycopg

        parts = urlsplit(url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), connect_timeout=3):
            return ""
    except Exception as error:  # any failure means: not usable here
        return f"{type(error).__name__}: {error}".strip()


EMULATOR = (
    "import sys\n"
    "from google_emulator import start_emulator\n"
    "server = start_emulator(port=0)\n"
    "print(server.url, flush=True)\n"
    "sys.stdin.read()  # until the benchmark exits\n"
)


def stop_emulator(process: subprocess.Popen) -> None:
    """End the emulator process (it exits when its stdin closes)."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def setup(name: str, *, database_url: str | None = None, q_sync: bool = False, migrate: bool = True) -> Env:
    """Prepare a throwaway environment for benchmark ``name`` and start Django in it."""
    tmp = Path(tempfile.mkdtemp(prefix=f"copilot-bench-{name}-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "copilot.settings"
    os.environ["DEBUG"] = "1"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ["TOKEN_ENCRYPTION_KEYS"] = ""
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["Q_SYNC"] = "1" if q_sync else "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    if url:
        server_url, unique = url, _unique_database_name(name)
        url = _create_postgres(server_url, unique)
        atexit.register(_drop_postgres, server_url, unique)
        database = "postgresql"
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        database = "sqlite"
    os.environ["DATABASE_URL"] = url

    # Google runs in its own process, as it would be remote: its work does not share our GIL,
    # and tracemalloc in this process sees only the app's allocations.
    emulator = subprocess.Popen(
        [sys.executable, "-c", EMULATOR],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    atexit.register(stop_emulator, emulator)
    emulator_url = emulator.stdout.readline().strip()
    os.environ["GOOGLE_EMULATOR_URL"] = emulator_url

    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return Env(name, database, url, emulator_url, emulator, tmp)


# --- People and connections --------------------------------------------------------------------------


def google_post(env: Env, path: str, payload: dict) -> dict:
    import requests

    response = requests.post(env.emulator_url + path, json=payload, timeout=30)
    response.raise_for_status()
    return response.json() if response.content else {}


def make_practice(slug: str = "bench", time_zone: str = "America/New_York"):
    from copilot.accounts.models import Practice

    return Practice.objects.create(name=f"Bench {slug}", slug=slug, time_zone=time_zone)


def make_staff(practice, count: int, *, prefix: str = "staff", role: str = "staff") -> list:
    """``count`` members (no usable password: benchmarks log in with sessions) with 07:00–19:00 hours."""
    from datetime import time as clock

    from calendars.models import WorkingHours
    from copilot.accounts.models import Membership, User

    members = []
    for number in range(count):
        email = f"{prefix}{number:03d}@{practice.slug}.bench"
        user = User.objects.create_user(
            email=email, password=None, first_name=f"{prefix.title()}{number:03d}"
        )
        member = Membership.objects.create(user=user, practice=practice, role=role)
        WorkingHours.objects.bulk_create(
            WorkingHours(member=member, weekday=d, start_time=clock(7), end_time=clock(19)) for d in range(7)
        )
        members.append(member)
    return members


def conflict_calendar(member):
    """An active Google connection for ``member`` with one conflict calendar ("Personal"), no Google
    traffic: for benches that write busy blocks straight into the database."""
    from integrations.models import GoogleCalendar, GoogleConnection

    connection = GoogleConnection.objects.create(
        user=member.user,
        google_uid=f"bench-{member.pk}",
        google_email=member.user.email,
        state=GoogleConnection.State.ACTIVE,
    )
    return GoogleCalendar.objects.create(
        connection=connection,
        user=member.user,
        calendar_id=f"personal-{member.pk}",
        summary="Personal",
        time_zone=member.practice.time_zone,
        access_role="owner",
        is_conflict=True,
    )


def connect(env: Env, member):
    """Give ``member`` a working Google connection, as the OAuth callback would, linked to their calendar."""
    import jwt
    from allauth.socialaccount.models import SocialAccount
    from django.conf import settings

    from integrations.services import (
        connection_choose_calendars,
        connection_from_oauth,
        connection_refresh_calendars,
    )

    email = member.user.email
    google_post(env, "/_emulator/users", {"email": email, "name": member.display_name})
    answer = google_post(
        env,
        "/_emulator/tokens",
        {
            "email": email,
            "client_id": settings.GOOGLE_CLIENT_ID,
            "scopes": list(settings.GOOGLE_REQUIRED_SCOPES),
        },
    )
    claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
    account, _ = SocialAccount.objects.get_or_create(
        provider="google", uid=claims["sub"], defaults={"user": member.user, "extra_data": claims}
    )
    connection = connection_from_oauth(user=member.user, social_account=account, token_response=answer)
    connection_refresh_calendars(connection=connection)
    connection_choose_calendars(connection=connection, linked_calendar_id=email, conflict_calendar_ids=[])
    connection.refresh_from_db()
    return connection


def make_practices_in_bulk(practices: int, per_practice: int, *, time_zone: str = "America/New_York") -> list:
    """``practices`` practices (slugs ``p0``, ``p1``, ...) of ``per_practice`` staff each, with
    07:00–19:00 hours, written with ``bulk_create``: what ``make_practice`` + ``make_staff`` make,
    at thousands of staff. Every user gets the same unusable password hash (nobody logs in)."""
    from datetime import time as clock

    from django.contrib.auth.hashers import make_password

    from calendars.models import WorkingHours
    from copilot.accounts.models import Membership, Practice, User

    made = Practice.objects.bulk_create(
        [Practice(name=f"Bench p{n}", slug=f"p{n}", time_zone=time_zone) for n in range(practices)],
        batch_size=1000,
    )
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(email=f"s{n}-{i:03d}@p{n}.bench", first_name=f"S{n}-{i:03d}", password=password)
            for n in range(practices)
            for i in range(per_practice)
        ],
        batch_size=1000,
    )
    members = Membership.objects.bulk_create(
        [
            Membership(user=user, practice=made[k // per_practice], role=Membership.Role.STAFF)
            for k, user in enumerate(users)
        ],
        batch_size=1000,
    )
    WorkingHours.objects.bulk_create(
        (
            WorkingHours(member=m, weekday=d, start_time=clock(7), end_time=clock(19))
            for m in members
            for d in range(7)
        ),
        batch_size=2000,
    )
    return members


def connect_in_bulk(
    env: Env, members: list, *, chunk: int = 2000, channel_ttl: Callable[[], int] | None = None
) -> dict:
    """Every member connected to Google and fully synced, in bulk: member pk → connection.

    The emulator seeds the accounts, tokens and sync tokens (``POST /_emulator/bulk``); the
    database gets what ``connect`` followed by the first pull leaves there: a social account,
    an active connection with the tokens encrypted as ``EncryptedTextField`` stores them, the
    primary calendar linked with its sync token, the last sync recorded. So the first poll is
    incremental. With ``channel_ttl`` (and ``PUBLIC_BASE_URL`` set) each linked calendar is also
    watched, as the product's ``open_channel`` does it, for ``channel_ttl()`` seconds.
    """
    import secrets as random_tokens

    from allauth.socialaccount.models import SocialAccount
    from django.conf import settings
    from django.utils import timezone

    from integrations.google import channels, client
    from integrations.models import GoogleCalendar, GoogleConnection, WatchChannel

    def user(member) -> dict:
        entry = {
            "email": member.user.email,
            "name": member.user.first_name,
            "timeZone": member.practice.time_zone,
        }
        if channel_ttl is not None:
            entry["watch"] = {
                "id": random_tokens.token_urlsafe(24),
                "token": random_tokens.token_urlsafe(32),
                "type": "web_hook",
                "address": channels.webhook_address(),
                "params": {"ttl": str(channel_ttl())},
            }
        return entry

    connections: dict = {}
    for offset in range(0, len(members), chunk):
        part = members[offset : offset + chunk]
        users = [user(m) for m in part]
        answer = google_post(
            env,
            "/_emulator/bulk",
            {
                "client_id": settings.GOOGLE_CLIENT_ID,
                "scopes": list(settings.GOOGLE_REQUIRED_SCOPES),
                "users": users,
            },
        )
        now = timezone.now()
        seeded = answer["items"]
        accounts = SocialAccount.objects.bulk_create(
            [
                SocialAccount(
                    user=m.user,
                    provider="google",
                    uid=item["sub"],
                    extra_data={"sub": item["sub"], "email": item["email"], "email_verified": True},
                )
                for m, item in zip(part, seeded, strict=True)
            ]
        )
        made = GoogleConnection.objects.bulk_create(
            [
                GoogleConnection(
                    user=m.user,
                    social_account=account,
                    google_uid=item["sub"],
                    google_email=item["email"],
                    state=GoogleConnection.State.ACTIVE,
                    granted_scopes=" ".join(sorted(client.normalize_scopes(item["scope"]))),
                    access_token=item["access_token"],  # encrypted by the field, as the product stores it
                    refresh_token=item["refresh_token"],
                    token_expiry=now + timedelta(seconds=int(item["expires_in"])),
                    last_sync_at=now,
                )
                for m, item, account in zip(part, seeded, accounts, strict=True)
            ]
        )
        calendars = GoogleCalendar.objects.bulk_create(
            [
                GoogleCalendar(
                    connection=connection,
                    user=m.user,
                    calendar_id=item["primaryCalendarId"],
                    summary=item["primaryCalendarId"],
                    time_zone=m.practice.time_zone,
                    access_role=GoogleCalendar.AccessRole.OWNER,
                    is_primary=True,
                    is_linked=True,
                    sync_token=item["nextSyncToken"],
                    last_synced_at=now,
                    busy_refreshed_at=now,
                )
                for m, item, connection in zip(part, seeded, made, strict=True)
            ]
        )
        if channel_ttl is not None:
            WatchChannel.objects.bulk_create(
                WatchChannel(
                    calendar=calendar,
                    channel_id=item["channel"]["id"],
                    token=wanted["watch"]["token"],  # encrypted by the field
                    resource_id=item["channel"]["resourceId"],
                    expiration=datetime.fromtimestamp(int(item["channel"]["expiration"]) / 1000, tz=UTC),
                )
                for calendar, item, wanted in zip(calendars, seeded, users, strict=True)
            )
        connections.update((m.pk, c) for m, c in zip(part, made, strict=True))
    return connections


def upcoming_appointments(member, count: int, *, per_day: int = 10, first_day: int = 1) -> list:
    """``count`` one-hour appointments from ``first_day`` days ahead, ``per_day`` a day, without hooks."""
    from datetime import datetime as dt
    from datetime import timedelta

    from django.utils import timezone

    from calendars.models import Appointment

    zone = member.practice.zone
    start_day = timezone.now().astimezone(zone).date() + timedelta(days=first_day)
    rows = []
    for number in range(count):
        day = start_day + timedelta(days=number // per_day)
        start = dt(day.year, day.month, day.day, 7 + number % per_day, tzinfo=zone)
        rows.append(
            Appointment(
                practice=member.practice,
                staff=member,
                title=f"Patient {number}",
                start=start,
                end=start + timedelta(hours=1),
            )
        )
    return Appointment.objects.bulk_create(rows, batch_size=500)


def emulator_stats(env: Env) -> dict:
    import requests

    return requests.get(env.emulator_url + "/_emulator/stats", timeout=30).json()


def http_requests(stats: dict) -> int:
    """HTTP requests that reached Google (a batch is one request, whatever its parts)."""
    return sum(sum(statuses.values()) for statuses in stats.get("requests", {}).values())


def set_faults(env: Env, **plan) -> None:
    import requests

    if plan:
        google_post(env, "/_emulator/faults", plan)
    else:
        requests.delete(env.emulator_url + "/_emulator/faults", timeout=30).raise_for_status()


def reset_stats(env: Env) -> None:
    google_post(env, "/_emulator/stats/reset", {})


# --- Measuring -----------------------------------------------------------------------------------


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.01):
    """Poll ``predicate`` until truthy; raises TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s")
        time.sleep(interval)


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Figure:
    figure: str
    value: float | int | str | None
    unit: str = ""
    target: str | None = None
    met: bool | None = None
    note: str = ""


def report(
    name: str, rows: list[dict], figures: list[Figure], *, quick: bool, env: Env | None = None, **extra
):
    """Print ``figures`` (and ``rows``) as tables and write ``bench/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "database": env.database if env else extra.pop("database", ""),
        "figures": [asdict(f) for f in figures],
        "rows": rows,
        **extra,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\n{name}{' (quick)' if quick else ''}:")
    width = max((len(f.figure) for f in figures), default=10)
    for f in figures:
        target = f" (target {f.target}: {'met' if f.met else 'NOT met'})" if f.target else ""
        print(f"  {f.figure:<{width}}  {_fmt(f.value)} {f.unit}{target}")
    for row in rows:
        print("   ", "  ".join(f"{k}={_fmt(v)}" for k, v in row.items()))
    print(f"  → {path}")
    return path


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def quick_flag(argv: list[str] | None = None) -> bool:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small numbers: a smoke run, not a measurement")
    return parser.parse_args(argv).quick


def add_participants(appointments: list) -> list:
    """The owner's ``Participant`` row for each appointment made by ``upcoming_appointments`` (which
    writes without the booking services): without them the book's pages, which read people's
    appointments through their participations, show none of them."""
    from calendars.models import Participant

    Participant.objects.bulk_create(
        [
            Participant(appointment=a, member_id=a.staff_id, is_owner=True, start=a.start, end=a.end)
            for a in appointments
        ],
        batch_size=500,
    )
    return appointments
