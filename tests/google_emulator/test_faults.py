"""Injected faults and latency, and the request counters."""

from __future__ import annotations

import time
from typing import Any

import requests
from googleapiclient.http import BatchHttpRequest

from .conftest import Google


def statuses(google: Google, token: str, n: int) -> list[int]:
    url = google.url + "/calendar/v3/users/me/calendarList"
    headers = {"Authorization": f"Bearer {token}"}
    return [requests.get(url, headers=headers, timeout=10).status_code for _ in range(n)]


def test_faults_are_deterministic_under_a_seed(google: Google, ana: str) -> None:
    token = google.tokens(ana)["access_token"]
    plan = {"rate": 0.5, "statuses": [500, 503, 429, 403], "seed": 42}

    google.control("POST", "faults", plan)
    first = statuses(google, token, 30)
    google.control("POST", "faults", plan)
    second = statuses(google, token, 30)

    assert first == second
    assert set(first) - {200} and 200 in first
    assert set(first) <= {200, 500, 503, 429, 403}


def test_injected_errors_have_googles_bodies(google: Google, ana: str) -> None:
    token = google.tokens(ana)["access_token"]
    url = google.url + "/calendar/v3/users/me/calendarList"
    expected = {
        500: ("backendError", "global"),
        503: ("backendError", "global"),
        429: ("rateLimitExceeded", "usageLimits"),
        403: ("rateLimitExceeded", "usageLimits"),
    }
    for status, (reason, domain) in expected.items():
        google.control("POST", "faults", {"rate": 1, "statuses": [status]})
        body = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["error"]
        assert (body["code"], body["errors"][0]["reason"], body["errors"][0]["domain"]) == (
            status,
            reason,
            domain,
        )
    assert body["message"] == "Rate Limit Exceeded"


def test_execute_with_retries_recovers(google: Google, ana: str) -> None:
    service = google.service(ana)
    google.control("POST", "faults", {"rate": 0.5, "statuses": [500, 503, 429], "seed": 1})
    request = service.calendarList().list()
    request._sleep = lambda seconds: None  # skip the client's backoff waits, not its retry logic

    listing = request.execute(num_retries=5)

    assert listing["items"][0]["id"] == ana
    counts = google.stats()["requests"]["GET /calendar/v3/users/me/calendarList"]
    assert counts["200"] == 1 and sum(counts.values()) == 3


def test_faults_never_touch_control_oauth_or_pages(google: Google, ana: str) -> None:
    google.control("POST", "faults", {"rate": 1, "statuses": [503], "paths": "^/"})
    assert google.control("GET", "faults")["faults"]["rate"] == 1
    assert requests.get(google.url + "/", timeout=10).status_code == 200
    google.control("POST", "faults", {"rate": 1, "statuses": [503]})
    assert google.tokens(ana)["access_token"]
    google.control("DELETE", "faults")
    assert statuses(google, google.tokens(ana)["access_token"], 3) == [200, 200, 200]


def test_latency_without_failures(google: Google, ana: str) -> None:
    token = google.tokens(ana)["access_token"]
    google.control("POST", "faults", {"rate": 0, "latency_ms": 150})
    started = time.monotonic()
    assert statuses(google, token, 2) == [200, 200]
    assert time.monotonic() - started >= 0.3


def test_batch_gets_latency_once_and_faults_per_part(google: Google, ana: str) -> None:
    service = google.service(ana)
    google.control("POST", "faults", {"rate": 1, "statuses": [503], "latency_ms": 150})
    results: list[Any] = []
    batch = BatchHttpRequest(
        callback=lambda rid, resp, exc: results.append(exc), batch_uri=google.url + "/batch/calendar/v3"
    )
    for _ in range(4):
        batch.add(service.calendarList().list())

    started = time.monotonic()
    batch.execute()
    elapsed = time.monotonic() - started

    assert [e.resp.status for e in results] == [503] * 4
    assert 0.15 <= elapsed < 0.6
    assert google.stats()["batch_parts"]["GET /calendar/v3/users/me/calendarList"] == {"503": 4}


def test_stats_count_by_route_template_and_reset(google: Google, ana: str) -> None:
    service = google.service(ana)
    service.events().list(calendarId="primary").execute()
    service.events().list(calendarId=ana).execute()
    requests.get(google.url + "/calendar/v3/nowhere", timeout=10)

    stats = google.stats()
    assert stats["requests"]["GET /calendar/v3/calendars/{calendarId}/events"] == {"200": 2}
    assert stats["requests"]["GET <unmatched>"] == {"404": 1}
    assert stats["total"] == 3
    assert not any(route.startswith(("POST /_emulator", "GET /_emulator")) for route in stats["requests"])
    assert google.control("POST", "stats/reset")["total"] == 0


def test_stats_per_second_count_what_total_counts_by_the_second_it_came(google: Google, ana: str) -> None:
    service = google.service(ana)
    before = time.time()
    for _ in range(3):
        service.events().list(calendarId="primary").execute()
    requests.get(google.url + "/_emulator/users", timeout=10)  # the control surface is not counted

    seconds = google.control("GET", "stats/seconds")["seconds"]
    assert sum(seconds.values()) == 3 == google.stats()["total"]
    assert all(int(before) <= int(second) <= time.time() for second in seconds)
    google.control("POST", "stats/reset")
    assert google.control("GET", "stats/seconds")["seconds"] == {}
