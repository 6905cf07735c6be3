"""Batch requests exactly as googleapiclient's BatchHttpRequest sends them."""

from __future__ import annotations

from typing import Any

import requests
from googleapiclient.http import BatchHttpRequest

from .conftest import Google, reason_of


def timed(summary: str, hour: int, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": f"2030-02-01T{hour:02d}:00:00Z"},
        "end": {"dateTime": f"2030-02-01T{hour:02d}:30:00Z"},
        **extra,
    }


def test_batch_with_mixed_success_and_failure_parts(google: Google, ana: str) -> None:
    service = google.service(ana)
    existing = service.events().insert(calendarId="primary", body=timed("existing", 8)).execute()
    results: dict[str, tuple[Any, Any]] = {}

    def collect(request_id: str, response: Any, exception: Any) -> None:
        results[request_id] = (response, exception)

    batch = BatchHttpRequest(callback=collect, batch_uri=google.url + "/batch/calendar/v3")
    batch.add(
        service.events().insert(calendarId="primary", body=timed("new", 9, id="batch00001")),
        request_id="insert",
    )
    batch.add(
        service.events().insert(calendarId="primary", body=timed("bad", 9, id="NOT-OK")), request_id="bad-id"
    )
    batch.add(service.events().get(calendarId="primary", eventId="missing0001"), request_id="missing")
    batch.add(service.events().delete(calendarId="primary", eventId=existing["id"]), request_id="delete")
    batch.add(service.calendarList().list(), request_id="calendars")
    batch.execute()

    assert results["insert"][0]["id"] == "batch00001" and results["insert"][1] is None
    assert results["bad-id"][1].resp.status == 400 and reason_of(results["bad-id"][1]) == "invalid"
    assert results["missing"][1].resp.status == 404 and reason_of(results["missing"][1]) == "notFound"
    assert results["delete"] == ("", None)
    assert results["calendars"][0]["items"][0]["id"] == ana
    stats = google.stats()
    assert stats["requests"]["POST /batch/calendar/v3"] == {"200": 1}
    assert stats["batch_parts"]["POST /calendar/v3/calendars/{calendarId}/events"] == {"200": 1, "400": 1}
    assert stats["batch_parts"]["DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}"] == {"204": 1}


def test_parts_inherit_the_outer_authorization(google: Google, ana: str) -> None:
    token = google.tokens(ana)["access_token"]
    body = (
        "--xyz\r\nContent-Type: application/http\r\nContent-ID: <item1>\r\n\r\n"
        "GET /calendar/v3/users/me/calendarList HTTP/1.1\r\n\r\n\r\n"
        "--xyz--\r\n"
    )
    answer = requests.post(
        google.url + "/batch",
        data=body,
        headers={"Content-Type": "multipart/mixed; boundary=xyz", "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    assert "Content-ID: <response-item1>" in answer.text
    assert "HTTP/1.1 200 OK" in answer.text and ana in answer.text


def test_more_than_1000_parts_is_refused(google: Google, ana: str) -> None:
    part = (
        "--b\r\nContent-Type: application/http\r\n\r\n"
        "GET /calendar/v3/users/me/calendarList HTTP/1.1\r\n\r\n\r\n"
    )
    answer = requests.post(
        google.url + "/batch/calendar/v3",
        data=part * 1001 + "--b--\r\n",
        headers={"Content-Type": "multipart/mixed; boundary=b"},
        timeout=30,
    )
    assert answer.status_code == 400
