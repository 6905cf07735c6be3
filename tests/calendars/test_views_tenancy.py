"""Charlie runs Practice B: every Practice A URL is a 404 to him, and nobody gets in without logging in."""

from __future__ import annotations

import pytest

from calendars.models import Appointment, WorkingHours
from copilot.accounts.models import Membership
from tests.conftest import local, login


@pytest.fixture
def a_appointment(alice, bob, book):
    p = alice.practice
    return book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Practice A secret")


def practice_a_urls(appointment, bob) -> list[tuple[str, str, dict]]:
    """Every URL that names something of Practice A, with the method and data to send."""
    pk = appointment.pk
    booking = {
        "staff": bob.pk,
        "title": "x",
        "date": "2026-11-24",
        "start_time": "09:00",
        "end_time": "10:00",
    }
    return [
        ("get", f"/calendars/appointments/{pk}/", {}),
        ("get", f"/calendars/appointments/{pk}/edit/", {}),
        ("post", f"/calendars/appointments/{pk}/edit/", booking),
        ("get", f"/calendars/appointments/{pk}/cancel/", {}),
        ("post", f"/calendars/appointments/{pk}/cancel/", {"reason": "x"}),
        ("get", "/calendars/week/", {"staff": bob.pk}),
        ("get", "/calendars/appointments/new/", {"staff": bob.pk}),
        ("get", f"/calendars/working-hours/{bob.pk}/", {}),
        ("post", f"/calendars/working-hours/{bob.pk}/", {"d0_start0": "01:00", "d0_end0": "02:00"}),
        ("post", f"/team/{bob.pk}/role/", {"role": "admin"}),
        ("post", "/practice/switch/", {"practice": bob.practice_id}),
    ]


def test_charlie_gets_404_on_every_practice_a_url(client, charlie, a_appointment, bob):
    login(client, charlie)
    for method, url, data in practice_a_urls(a_appointment, bob):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = getattr(client, method)(url, data, **headers)
            assert response.status_code == 404, (method, url, headers, response.status_code)
            assert b"Practice A secret" not in response.content
    a_appointment.refresh_from_db()
    bob.refresh_from_db()
    assert a_appointment.title == "Practice A secret" and a_appointment.is_active
    assert bob.role == Membership.Role.STAFF
    assert WorkingHours.objects.filter(member=bob).count() == 7


def test_charlie_cannot_book_onto_a_practice_a_calendar(client, charlie, bob):
    data = {"staff": bob.pk, "title": "x", "date": "2026-11-24", "start_time": "09:00", "end_time": "10:00"}
    response = login(client, charlie).post("/calendars/appointments/new/", data)
    assert "staff" in response.context["form"].errors
    assert not Appointment.objects.filter(practice=bob.practice).exists()


def test_charlie_sees_none_of_practice_a_in_his_own_pages(client, charlie, a_appointment, bob):
    login(client, charlie)
    pages = [
        ("/calendars/list/", {"date_from": "2026-11-01", "staff": bob.pk}),
        ("/calendars/list/", {"date_from": "2026-11-01"}),
        ("/calendars/week/", {"date": "2026-11-23"}),
        ("/team/", {}),
    ]
    for url, params in pages:
        html = client.get(url, params).content.decode()
        assert "Practice A secret" not in html, url
        assert "bob@a.test" not in html and ">Bob<" not in html, url


@pytest.mark.parametrize(
    "url",
    [
        "/calendars/",
        "/calendars/week/",
        "/calendars/list/",
        "/calendars/appointments/new/",
        "/calendars/appointments/1/",
        "/calendars/appointments/1/edit/",
        "/calendars/appointments/1/cancel/",
        "/calendars/settings/connections/",
        "/settings/integrations/",
        "/team/",
        "/calendars/working-hours/1/",
    ],
)
def test_anonymous_requests_are_sent_to_log_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_anonymous_posts_are_sent_to_log_in_and_change_nothing(client, a_appointment):
    for url in (f"/calendars/appointments/{a_appointment.pk}/cancel/", "/practice/switch/", "/team/invite/"):
        response = client.post(url, {"practice": 1, "email": "x@x.test"})
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    a_appointment.refresh_from_db()
    assert a_appointment.is_active
