"""Structured logs: JSON lines with the request id, carried into the tasks a request enqueues;
never a token or a patient name, through a sync with pushes, pulls and failures."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from datetime import timedelta
from multiprocessing import Queue, Value

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.worker import worker

from copilot.ops.requestid import sane_or_new
from integrations import tasks
from integrations.google import pull
from integrations.models import EventLink, GoogleConnection
from integrations.services import connection_unlink
from tests.conftest import local, login

from .leaks import context_filter, json_formatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Every log record from now on, as the JSON line ``LOG_FORMAT=json`` writes (parsed)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(context_filter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def run_like_a_worker(task: dict) -> None:
    """Run a dequeued task through django-q2's worker loop, in a fresh context (no request id)."""
    task_queue, result_queue = Queue(), Queue()
    task["sync"] = True  # keep the test's database connection (and let a failure raise)
    task_queue.put(task)
    task_queue.put("STOP")
    contextvars.Context().run(worker, task_queue, result_queue, Value("f", -1))


@pytest.mark.parametrize(
    ("given", "kept"),
    [("req-0123456789", True), ("a" * 128, True), ("short", False), ("bad id\n", False), ("x" * 129, False)],
)
def test_a_sane_request_id_is_kept_and_anything_else_replaced(given, kept):
    assert (sane_or_new(given) == given) is kept
    assert len(sane_or_new(None)) == 32


def test_djangos_own_request_lines_carry_the_id_and_no_query_string(client, json_lines):
    client.get(
        "/metrics?patient=Zebulon+Quartermaine", HTTP_X_REQUEST_ID="req-0123456789"
    )  # 404: metrics off
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["request_id"] == "req-0123456789"
    assert line["request"] == "GET /metrics"
    assert "Zebulon" not in json.dumps(line)
    client.get("/healthz")
    from copilot.ops.requestid import request_id_var

    assert request_id_var.get() is None, "the id ends with its request"


def test_every_response_names_its_request_id(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-probe-000001")["X-Request-ID"] == "lb-probe-000001"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert generated != "<script>" and len(generated) == 32


@pytest.mark.django_db(transaction=True)  # the enqueue happens when the view's transaction commits
def test_a_task_logs_json_under_the_id_of_the_request_that_enqueued_it(
    client, bob, connect, monkeypatch, json_lines
):
    connection = connect(bob)
    login(client, bob)
    monkeypatch.setattr(Conf, "SYNC", False)  # queue the task for a worker instead of running it inline
    response = client.post(
        reverse("integrations:sync_now", args=[connection.pk]), HTTP_X_REQUEST_ID="req-0123456789"
    )
    assert response["X-Request-ID"] == "req-0123456789"
    queued = get_broker().dequeue()
    assert len(queued) == 1
    task = SignedPackage.loads(queued[0][1])
    assert task["func"] == "integrations.tasks.sync_connection"

    run_like_a_worker(task)

    lines = [
        line
        for line in json_lines()
        if line["logger"] == "copilot.tasks" and "tasks.sync_connection " in line["message"]
    ]
    assert len(lines) == 2 and lines[0]["message"].endswith("started")
    for line in lines:
        assert line["request_id"] == "req-0123456789"
        assert line["connection_id"] == connection.pk
        assert line["practice_id"] == bob.practice_id  # the practice the request worked in
        assert {"time", "level", "logger", "message"} <= set(line)
    assert any("succeeded in" in line["message"] for line in lines)


def test_a_failing_task_is_logged_as_failed(json_lines):
    from django_q.tasks import async_task

    with pytest.raises(ZeroDivisionError):
        async_task("operator.truediv", 1, 0, sync=True)
    messages = [line["message"] for line in json_lines() if line["logger"] == "copilot.tasks"]
    assert messages[0] == "Task operator.truediv started"
    assert messages[1].startswith("Task operator.truediv failed in ")


def test_a_scheduled_task_logs_under_its_own_task_id(json_lines):
    from django_q.tasks import async_task

    task_id = async_task("copilot.ops.tasks.heartbeat", sync=True)
    lines = [line for line in json_lines() if line["logger"] == "copilot.tasks"]
    assert lines and {line["request_id"] for line in lines} == {task_id}


TITLES = ["Zebulon Quartermaine", "Octavia Pendleworth", "Ignatius Fairweather", "Philippa Thistlewood"]


def test_no_token_or_patient_name_reaches_the_logs_of_a_sync_with_failures(
    google, connect, bob, dora, book, no_secrets_in_logs, django_capture_on_commit_callbacks
):
    guard = no_secrets_in_logs
    bob_connection, dora_connection = connect(bob), connect(dora)
    guard.remember()
    day = timezone.now().astimezone(bob.practice.zone).date() + timedelta(days=2)

    def at(hour):
        return local(bob.practice, day.year, day.month, day.day, hour)

    with django_capture_on_commit_callbacks(execute=True):
        first = book(bob, at(9), at(10), title=TITLES[0])  # pushed on commit
    event_id = EventLink.objects.get(appointment=first).event_id
    # Someone renames it in Google: the pull brings the new title back.
    google.service(bob.user.email).events().patch(
        calendarId=bob.user.email, eventId=event_id, body={"summary": TITLES[1]}
    ).execute()
    pull.pull_account(bob_connection.pk)
    first.refresh_from_db()
    assert first.title == TITLES[1]
    guard.remember()
    # Google fails every request: pushes and pulls fail and are recorded.
    google.faults(rate=1.0, statuses=[503])
    with django_capture_on_commit_callbacks(execute=True):
        book(bob, at(11), at(12), title=TITLES[2])
    pull.pull_account(bob_connection.pk)
    google.clear_faults()
    # The access token expires: the next sync refreshes it.
    GoogleConnection.objects.filter(pk=bob_connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1), retry_after=None
    )
    tasks.sync_connection(bob_connection.pk)
    guard.remember()
    # Dora revokes access: her booking waits, the doctor says so, the connection is unlinked.
    google.revoke(dora.user.email)
    GoogleConnection.objects.filter(pk=dora_connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    tasks.check_connection(dora_connection.pk)
    with django_capture_on_commit_callbacks(execute=True):
        book(dora, at(14), at(15), title=TITLES[3])
    with pytest.raises(SystemExit):  # Dora's connection needs a person
        call_command("google_doctor", stdout=io.StringIO())
    call_command("sync_google", stdout=io.StringIO())
    connection_unlink(connection=GoogleConnection.objects.get(pk=dora_connection.pk))
    guard.remember()

    assert len(guard.caplog.get_records("call")) > 20, "too few log lines for the check to prove anything"
    assert len(guard.tokens) >= 5
    guard.titles |= set(TITLES)  # the fixture's teardown greps every line for them and the tokens


@pytest.mark.django_db(transaction=True)  # the task runs inline when the view's transaction commits
def test_log_lines_name_the_practice_once_the_request_has_loaded_it(client, bob, connect, json_lines):
    connection = connect(bob)
    login(client, bob)
    client.post(reverse("integrations:sync_now", args=[connection.pk]), HTTP_X_REQUEST_ID="req-practice-01")
    lines = [line for line in json_lines() if line["request_id"] == "req-practice-01"]
    task_lines = [line for line in lines if line["logger"] == "copilot.tasks"]
    assert task_lines and {line["practice_id"] for line in task_lines} == {bob.practice_id}
