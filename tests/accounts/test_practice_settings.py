"""Settings › Practice: what staff calendars show, for practice admins only; a change re-pushes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from calendars.models import Appointment
from copilot.accounts import practice_hooks
from copilot.accounts.models import Practice
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:practice_settings")
SAVE = reverse("accounts:practice_calendar_privacy")


@pytest.fixture
def told(monkeypatch):
    """The practices the display hook was told about (the registered listeners still run)."""
    heard: list[int] = []
    listener = lambda practice: heard.append(practice.pk)  # noqa: E731
    practice_hooks.register_display_listener(listener)
    yield heard
    practice_hooks._listeners.remove(listener)


def test_admins_see_the_choice_and_why_type_only_is_the_default(client, alice, practice_a):
    login(client, alice)
    page = client.get(PAGE).content.decode()
    assert 'id="calendar-privacy"' in page
    [checked] = re.findall(r'<input[^>]*value="(\w+)"[^>]*checked', page)
    assert checked == "full"
    assert "patient names never reach them" in page
    for value, _ in Practice.TitlePrivacy.choices:
        assert f'value="{value}"' in page


def test_staff_get_404(client, bob, practice_a):
    login(client, bob)
    assert client.get(PAGE).status_code == 404
    assert client.post(SAVE, {"external_title_privacy": "busy"}).status_code == 404
    practice_a.refresh_from_db()
    assert practice_a.external_title_privacy == Practice.TitlePrivacy.FULL


def test_a_change_saves_for_this_practice_only_and_tells_the_hook(
    client, alice, practice_a, practice_b, told
):
    login(client, alice)
    assert client.post(SAVE, {"external_title_privacy": "busy"}).status_code == 302
    practice_a.refresh_from_db()
    practice_b.refresh_from_db()
    assert practice_a.external_title_privacy == Practice.TitlePrivacy.BUSY
    assert practice_b.external_title_privacy == Practice.TitlePrivacy.FULL
    assert told == [practice_a.pk]
    client.post(SAVE, {"external_title_privacy": "busy"})  # unchanged: nothing to re-push
    assert told == [practice_a.pk]


@pytest.mark.parametrize("value", ["", "secret", "x" * 5000, "full\x00"])
def test_bad_values_are_a_field_error_and_change_nothing(client, alice, practice_a, told, value):
    login(client, alice)
    response = client.post(SAVE, {"external_title_privacy": value})
    assert response.status_code == 400 and b"has-error" in response.content
    practice_a.refresh_from_db()
    assert practice_a.external_title_privacy == Practice.TitlePrivacy.FULL and told == []
    assert not Appointment.objects.exists()
