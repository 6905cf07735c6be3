"""The calendar picker: a plain GET shows what is stored, never calls Google, never writes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import GoogleCalendar, GoogleConnection
from tests.conftest import login

from .test_tenancy_walk import fingerprint

pytestmark = pytest.mark.django_db


def test_a_plain_get_of_the_picker_neither_calls_google_nor_writes(client, scene, google):
    connection = GoogleConnection.objects.get(user=scene.alice.user)
    google.calendar(scene.alice.user.email, "Added in Google since")
    url = reverse("integrations:choose_calendars", args=[connection.pk])
    login(client, scene.alice)
    before = fingerprint()
    google.reset_stats()

    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = client.get(url, **headers)
        assert page.status_code == 200
        assert scene.alice.user.email in page.content.decode(), "the stored list is shown"
        assert "Added in Google since" not in page.content.decode()
    assert client.head(url).status_code == 200

    assert google.api_requests() == 0
    assert fingerprint() == before


def test_refresh_list_reads_google_and_stores_the_new_calendar(client, scene, google):
    connection = GoogleConnection.objects.get(user=scene.alice.user)
    google.calendar(scene.alice.user.email, "Added in Google since")
    url = reverse("integrations:choose_calendars", args=[connection.pk])
    google.reset_stats()

    response = login(client, scene.alice).post(url, {"refresh": "1"})

    assert response.status_code == 302 and response["Location"] == url
    assert google.api_requests() == 1
    assert GoogleCalendar.objects.filter(connection=connection, summary="Added in Google since").exists()
    page = client.get(url).content.decode()
    assert "Added in Google since" in page and "loaded from Google" in page
    linked = GoogleCalendar.objects.get(connection=connection, is_linked=True)
    assert linked.calendar_id == scene.alice.user.email, "refreshing keeps the person's choices"


def test_refresh_when_google_fails_says_so_and_keeps_the_stored_list(client, scene, google):
    connection = GoogleConnection.objects.get(user=scene.alice.user)
    url = reverse("integrations:choose_calendars", args=[connection.pk])
    google.faults(rate=1.0, statuses=[503])

    response = login(client, scene.alice).post(url, {"refresh": "1"}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert scene.alice.user.email in html, "the stored list is still there to choose from"
    assert "message-error" in html
    assert "loaded from Google" not in html
