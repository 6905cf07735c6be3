"""/healthz and /readyz: JSON, no login, cheap, and /readyz fails for each broken dependency then recovers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.utils import timezone
from django_q.models import OrmQ
from freezegun import freeze_time

from copilot.ops import health
from copilot.ops.models import Heartbeat
from copilot.ops.tasks import heartbeat

pytestmark = pytest.mark.django_db

BROKEN_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def file_cache(location) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(location),
        }
    }


@pytest.fixture(autouse=True)
def _fresh_migration_check():
    health.reset_migration_check()
    yield
    health.reset_migration_check()


@pytest.fixture
def alive():
    """A worker ran the heartbeat task just now."""
    heartbeat()


def readyz(client):
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def failing(body) -> set[str]:
    return {name for name, check in body["checks"].items() if not check["ok"]}


def test_healthz_answers_without_login_session_or_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "sessionid" not in response.cookies
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_ready_when_everything_answers_and_costs_three_queries_after_the_first(
    client, alive, django_assert_num_queries, settings
):
    # The default without REDIS_URL: the shared cache is a table of the database checked first.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "copilot_cache"}
    }
    status, body = readyz(client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "cache", "worker", "queue"}
    assert body["checks"]["cache"] == {"ok": True, "detail": "a table in the database, reached above"}
    with django_assert_num_queries(3):  # SELECT 1, the heartbeat, the oldest queued task
        status, _ = readyz(client)
    assert status == 200


def test_readyz_fails_while_the_database_is_unreachable_and_recovers(client, alive, monkeypatch, caplog):
    def refuse():
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "ensure_connection", refuse)
        status, body = readyz(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "detail": "unreachable: OperationalError"}
    assert "Not ready: database (unreachable: OperationalError)" in caplog.text
    assert "Service Unavailable" not in caplog.text
    assert "migrations" in failing(body)
    assert readyz(client)[0] == 200


def test_readyz_fails_while_a_migration_is_not_applied_and_recovers(client, alive):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'ops' AND name = '0001_initial'")
    status, body = readyz(client)
    assert status == 503
    assert failing(body) == {"migrations"}
    assert "ops.0001_initial" in body["checks"]["migrations"]["detail"]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('ops', '0001_initial', %s)",
            [timezone.now()],
        )
    assert readyz(client)[0] == 200


def test_readyz_fails_while_the_shared_cache_is_unreachable_and_recovers(client, alive, settings, tmp_path):
    settings.CACHES = BROKEN_REDIS
    status, body = readyz(client)
    assert status == 503
    assert failing(body) == {"cache"}
    assert body["checks"]["cache"]["detail"].startswith("unreachable")

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.CACHES = file_cache(blocker / "cache")  # a shared cache that cannot store: also a failure
    assert failing(readyz(client)[1]) == {"cache"}

    settings.CACHES = file_cache(tmp_path / "cache")
    status, body = readyz(client)
    assert status == 200, body
    assert body["checks"]["cache"] == {"ok": True, "detail": "reachable"}


def test_readyz_fails_without_a_recent_worker_heartbeat_and_recovers(client, settings):
    settings.READY_WORKER_MAX_SECONDS = 180
    status, body = readyz(client)
    assert status == 503
    assert failing(body) == {"worker"}
    assert "no heartbeat yet" in body["checks"]["worker"]["detail"]

    heartbeat()
    assert readyz(client)[0] == 200
    with freeze_time(timezone.now() + timedelta(minutes=4)):
        status, body = readyz(client)
        assert status == 503
        assert failing(body) == {"worker"}
        heartbeat()  # the worker is back
        assert readyz(client)[0] == 200
    assert Heartbeat.objects.count() == 1


def test_readyz_fails_while_a_queued_task_waits_too_long_and_recovers(client, alive, settings):
    settings.READY_QUEUE_MAX_SECONDS = 300
    now = timezone.now()
    OrmQ.objects.create(key="copilot", payload="x", lock=now - timedelta(seconds=30))
    status, body = readyz(client)
    assert status == 200
    assert body["checks"]["queue"]["detail"].startswith("oldest task waiting 3")

    stuck = OrmQ.objects.create(key="copilot", payload="x", lock=now - timedelta(minutes=20))
    OrmQ.objects.create(key="copilot", payload="x", lock=now + timedelta(minutes=3))  # held by a worker
    status, body = readyz(client)
    assert status == 503
    assert failing(body) == {"queue"}
    assert "limit 300 s" in body["checks"]["queue"]["detail"]

    stuck.delete()  # a worker took it
    assert readyz(client)[0] == 200


def test_the_heartbeat_is_scheduled_every_minute_by_migrate():
    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("migrate", verbosity=0)
    schedule = Schedule.objects.get(func="copilot.ops.tasks.heartbeat")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)


def test_health_endpoints_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_readyz_reads_the_queue_of_a_redis_broker(client, alive, settings, monkeypatch):
    """With REDIS_URL the queue check reads the task at the head of the list (and so reaches Redis)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.signing import SignedPackage

    settings.READY_QUEUE_MAX_SECONDS = 300
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/0")  # nothing listens there
    status, body = readyz(client)
    assert status == 503
    assert failing(body) == {"queue"}
    assert body["checks"]["queue"]["detail"] == "could not be read: ConnectionError"

    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:6379/15")
    broker = get_broker()
    try:
        broker.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379 for the rest of this test")
    broker.delete_queue()
    try:
        assert readyz(client)[1]["checks"]["queue"] == {"ok": True, "detail": "empty"}
        broker.enqueue(
            SignedPackage.dumps(
                {
                    "id": "t1",
                    "func": "copilot.ops.tasks.heartbeat",
                    "args": (),
                    "kwargs": {},
                    "started": timezone.now() - timedelta(minutes=20),
                }
            )
        )
        status, body = readyz(client)
        assert status == 503
        assert body["checks"]["queue"]["detail"].startswith("oldest task waiting 120")
    finally:
        broker.delete_queue()
    assert readyz(client)[0] == 200
