"""Google's per-minute quotas: off unless asked for; then 600 per user and 10,000 per project."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from google_emulator import start_emulator

from .conftest import Google, reason_of


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(google: Google) -> FakeClock:
    fake = FakeClock()
    google.server.app.quotas.clock = fake
    return fake


def read(google: Google, email: str) -> Any:
    return google.service(email).events().list(calendarId="primary", maxResults=1)


def refusal(call: Any) -> tuple[int, str, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    body = json.loads(caught.value.content)["error"]
    return caught.value.resp.status, reason_of(caught.value), body["errors"][0]["domain"]


def batch_of_reads(google: Google, email: str, n: int) -> list[Any]:
    """`n` list calls in one batch; returns each part's exception or None."""
    outcomes: list[Any] = []
    batch = BatchHttpRequest(
        callback=lambda _id, _response, error: outcomes.append(error),
        batch_uri=google.url + "/batch/calendar/v3",
    )
    service = google.service(email)
    for _ in range(n):
        batch.add(service.events().list(calendarId="primary", maxResults=1))
    batch.execute()
    return outcomes


def test_quotas_are_off_by_default(google: Google, ana: str) -> None:
    assert google.control("GET", "quotas")["enabled"] is False
    outcomes = [batch_of_reads(google, ana, 50) for _ in range(13)]  # 650 requests in a minute

    assert all(error is None for parts in outcomes for error in parts)


def test_600_requests_a_minute_per_user_then_user_rate_limit_exceeded(
    google: Google, ana: str, ben: str, clock: FakeClock
) -> None:
    google.control("POST", "quotas", {"enabled": True})
    outcomes = [error for _ in range(12) for error in batch_of_reads(google, ana, 50)]  # batch parts count

    assert outcomes == [None] * 600
    assert refusal(read(google, ana)) == (403, "userRateLimitExceeded", "usageLimits")
    read(google, ben).execute()  # another user of the same project is not held back
    clock.now += 61
    read(google, ana).execute()  # a minute later the user is through again
    assert google.control("GET", "quotas")["refused"] == {"user": 1, "project": 0}


def test_the_project_limit_holds_back_every_user(
    google: Google, ana: str, ben: str, clock: FakeClock
) -> None:
    google.control("POST", "quotas", {"enabled": True, "user_per_minute": 5, "project_per_minute": 8})
    for _ in range(5):
        read(google, ana).execute()
    for _ in range(3):
        read(google, ben).execute()

    assert refusal(read(google, ben)) == (403, "rateLimitExceeded", "usageLimits")
    assert refusal(read(google, ana)) == (403, "userRateLimitExceeded", "usageLimits")
    clock.now += 30
    assert refusal(read(google, ben))[1] == "rateLimitExceeded"  # a sliding minute, not a fresh one
    clock.now += 31
    read(google, ben).execute()


def test_quotas_can_answer_429_instead(google: Google, ana: str, clock: FakeClock) -> None:
    google.control("POST", "quotas", {"enabled": True, "user_per_minute": 1, "status": 429})
    read(google, ana).execute()

    assert refusal(read(google, ana)) == (429, "rateLimitExceeded", "usageLimits")


def test_bad_quota_settings_are_refused_and_reset_switches_quotas_off(google: Google, ana: str) -> None:
    for body in ({"status": 500}, {"user_per_minute": 0}, {"project_per_minute": "many"}):
        before = google.server.app.quotas.plan
        response = requests.post(f"{google.url}/_emulator/quotas", json=body, timeout=10)
        assert response.status_code == 400 and google.server.app.quotas.plan == before
    google.control("POST", "quotas", {"enabled": True, "user_per_minute": 1})

    google.control("POST", "reset")

    assert google.control("GET", "quotas") == {
        "enabled": False,
        "user_per_minute": 600,
        "project_per_minute": 10000,
        "status": 403,
        "refused": {"user": 0, "project": 0},
    }


def test_start_emulator_can_enforce_quotas_from_the_start() -> None:
    with start_emulator(port=0, quotas={"user_per_minute": 2}) as server:
        google = Google(server)
        email = google.user("cy@example.test")["email"]
        read(google, email).execute()
        read(google, email).execute()

        assert refusal(read(google, email))[:2] == (403, "userRateLimitExceeded")
        google.control("POST", "reset")  # reset keeps the plan the emulator started with
        assert google.control("GET", "quotas")["enabled"] is True
