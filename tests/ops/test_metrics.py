"""/metrics: refused without the bearer token, and right after a scripted scenario.

Scenario: Bob syncs (his last pull 20 minutes ago), Dora revoked access in Google and has three
bookings waiting, one push channel expires within a day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from calendars.models import Appointment
from integrations import tasks
from integrations.models import GoogleCalendar, GoogleConnection, WatchChannel
from tests.conftest import local

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"


def scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def test_metrics_are_off_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN]
)
def test_metrics_refuse_a_missing_or_wrong_token(client, metrics_on, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"copilot_" not in response.content


def test_metrics_show_the_state_of_sync_after_a_scripted_scenario(
    client, metrics_on, google, connect, bob, dora, book, django_assert_num_queries
):
    before = scrape(client)
    bob_connection = connect(bob)
    dora_connection = connect(dora)
    # Dora revokes access in Google; the health check finds out.
    google.revoke(dora.user.email)
    GoogleConnection.objects.filter(pk=dora_connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    tasks.check_connection(dora_connection.pk)
    assert GoogleConnection.objects.get(pk=dora_connection.pk).state == GoogleConnection.State.NEEDS_RECONNECT
    # Three bookings wait for her; the oldest was made ten minutes ago.
    day = timezone.now().astimezone(dora.practice.zone).date() + timedelta(days=3)
    for hour in (9, 10, 11):
        book(
            dora,
            local(dora.practice, day.year, day.month, day.day, hour),
            local(dora.practice, day.year, day.month, day.day, hour, 30),
            title=f"Patient {hour}",
        )
    first = Appointment.objects.filter(staff=dora).order_by("start").first()
    Appointment.objects.filter(pk=first.pk).update(updated=timezone.now() - timedelta(minutes=10))
    # Bob's calendar was last read 20 minutes ago.
    GoogleCalendar.objects.filter(connection=bob_connection, is_linked=True).update(
        last_synced_at=timezone.now() - timedelta(minutes=20), busy_refreshed_at=None
    )
    calendar = GoogleCalendar.objects.get(connection=bob_connection, is_linked=True)
    WatchChannel.objects.create(
        calendar=calendar, channel_id="soon", token="t1", expiration=timezone.now() + timedelta(hours=2)
    )
    WatchChannel.objects.create(
        calendar=calendar, channel_id="later", token="t2", expiration=timezone.now() + timedelta(days=3)
    )

    with django_assert_num_queries(6):  # connections, outbox, calendars, channels, heartbeat, queue
        after = scrape(client)

    assert value(after, "copilot_google_connections", state="active") == 1
    assert value(after, "copilot_google_connections", state="needs_reconnect") == 1
    assert value(after, "copilot_google_connections", state="missing_permissions") == 0
    assert value(after, "copilot_outbox_waiting_changes", reason="held") == 3  # until Dora reconnects
    assert value(after, "copilot_outbox_waiting_changes", reason="due") == 0
    assert 600 <= value(after, "copilot_outbox_oldest_waiting_seconds", reason="held") < 700
    assert value(after, "copilot_outbox_oldest_waiting_seconds", reason="due") == 0
    # Only Bob's calendar counts (Dora's connection is not active): 20 minutes late.
    assert value(after, "copilot_pull_lag_seconds_bucket", le="900.0") == 0
    assert value(after, "copilot_pull_lag_seconds_bucket", le="1800.0") == 1
    assert value(after, "copilot_pull_lag_seconds_bucket", le="+Inf") == 1
    assert value(after, "copilot_pull_lag_seconds_count") == 1
    assert 1200 <= value(after, "copilot_pull_lag_seconds_sum") < 1300
    assert value(after, "copilot_pull_never_pulled_calendars") == 0
    assert value(after, "copilot_push_channels_expiring_24h") == 1
    # Google calls were counted, and the revoked grant as needing a reconnect.
    assert value(after, "copilot_google_requests_total") > value(before, "copilot_google_requests_total")
    reconnects = ("copilot_google_errors_total", {"error_class": "needs_reconnect"})
    assert value(after, reconnects[0], **reconnects[1]) == value(before, reconnects[0], **reconnects[1]) + 1
    assert value(after, "copilot_http_requests_total", view="ops:metrics", method="GET", status="200") >= 1
    assert value(after, "copilot_worker_heartbeat_age_seconds") == float("inf")  # no worker ran yet
    assert value(after, "copilot_queue_oldest_task_age_seconds") == 0


def test_google_errors_are_counted_by_class():
    from copilot.ops.metrics import error_class
    from integrations.google import client

    assert error_class(client.classify_http_error(429, b"")) == "rate_limited"
    body = b'{"error": {"errors": [{"reason": "userRateLimitExceeded"}]}}'
    assert error_class(client.classify_http_error(403, body)) == "rate_limited"
    assert error_class(client.classify_http_error(503, b"")) == "retryable"
    assert error_class(client.classify_http_error(401, b"")) == "needs_reconnect"
    body = b'{"error": {"errors": [{"reason": "insufficientPermissions"}]}}'
    assert error_class(client.classify_http_error(403, body)) == "missing_permission"
    assert error_class(client.classify_http_error(412, b"")) == "precondition_failed"


def test_requests_are_counted_per_view(client, metrics_on):
    client.get("/healthz")
    before = value(
        scrape(client), "copilot_http_requests_total", view="ops:healthz", method="GET", status="200"
    )
    client.get("/healthz")
    client.get("/no-such-page/")
    after = scrape(client)
    assert (
        value(after, "copilot_http_requests_total", view="ops:healthz", method="GET", status="200")
        == before + 1
    )
    assert value(after, "copilot_http_requests_total", view="unresolved", method="GET", status="404") >= 1
    assert value(after, "copilot_http_request_duration_seconds_count", view="ops:healthz", method="GET") >= 2
