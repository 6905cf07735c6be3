"""State file persistence, demo seeding, and the start/stop API."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import id_token

from google_emulator import DEFAULT_CLIENT_ID, start_emulator

from .conftest import Google


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "google.json"
    with start_emulator(state_file=state) as first:
        google = Google(first)
        google.user("ana@example.test", "Ana Diaz")
        tokens = google.tokens("ana@example.test")
        service = google.service("ana@example.test")
        created = (
            service.events()
            .insert(
                calendarId="primary",
                body={"summary": "kept", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}},
            )
            .execute()
        )
        sync_token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
        certs = requests.get(first.url + "/oauth2/v1/certs", timeout=10).json()
    assert json.loads(state.read_text())["data"]["accounts"]

    with start_emulator(state_file=state) as second:
        google = Google(second)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        url = f"{second.url}/calendar/v3/calendars/primary/events/{created['id']}"
        assert requests.get(url, headers=headers, timeout=10).json()["summary"] == "kept"
        delta = requests.get(
            f"{second.url}/calendar/v3/calendars/primary/events",
            params={"syncToken": sync_token},
            headers=headers,
            timeout=10,
        )
        assert delta.status_code == 200 and delta.json()["items"] == []
        assert requests.get(second.url + "/oauth2/v1/certs", timeout=10).json() == certs
        id_token.verify_token(
            tokens["id_token"],
            GoogleRequest(),
            audience=DEFAULT_CLIENT_ID,
            certs_url=second.url + "/oauth2/v1/certs",
        )


def test_demo_seed_is_idempotent_over_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "demo.json"
    with start_emulator(state_file=state, demo=True) as first:
        before = requests.get(first.url + "/_emulator/state", timeout=10).json()["data"]
    with start_emulator(state_file=state, demo=True) as second:
        after = requests.get(second.url + "/_emulator/state", timeout=10).json()["data"]
        token = Google(second).tokens("jo.park@demo-dental.test")["access_token"]
        listing = requests.get(
            second.url + "/calendar/v3/users/me/calendarList",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()

    assert after["calendars"].keys() == before["calendars"].keys()
    assert {k: len(v) for k, v in after["events"].items()} == {k: len(v) for k, v in before["events"].items()}
    assert set(after["accounts"]) == {
        "dr.alvarez@demo-dental.test",
        "sam.lee@demo-dental.test",
        "jo.park@demo-dental.test",
    }
    roles = {entry["summary"]: entry["accessRole"] for entry in listing["items"]}
    assert roles == {"jo.park@demo-dental.test": "owner", "Clinic Holidays": "freeBusyReader"}


def test_start_emulator_gives_a_url_a_port_and_stops(tmp_path: Path) -> None:
    server = start_emulator(port=0, access_token_lifetime=120)
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        google = Google(server)
        google.user("ana@example.test")
        assert google.tokens("ana@example.test")["expires_in"] == 120
        server.reset()
        assert google.control("GET", "users")["items"] == []
    finally:
        server.stop()
    server.stop()  # idempotent


def test_reset_keeps_registered_clients(google: Google) -> None:
    google.control("POST", "clients", {"client_id": "kept.apps", "client_secret": "s"})
    google.control("POST", "reset")
    assert "kept.apps" in {c["client_id"] for c in google.control("GET", "clients")["items"]}
    assert DEFAULT_CLIENT_ID in {c["client_id"] for c in google.control("GET", "clients")["items"]}
