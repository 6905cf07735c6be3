"""The booking form's staff pickers and the list's staff filter keep their size with the practice's."""

from __future__ import annotations

import re

import pytest

from calendars.models import Appointment
from calendars.staff_picker import PICKER_LIMIT
from copilot.accounts.models import Membership, User
from tests.calendars.test_views_appointments import (
    _before_the_booked_week,  # noqa: F401  (autouse)
    form_data,
)
from tests.conftest import give_office_hours, login

NEW = "/calendars/appointments/new/"
OPTIONS = "/calendars/staff-options/"


def hire(practice, count: int, prefix: str = "Nurse") -> list[Membership]:
    """``count`` more staff, named ``prefix`` 000…"""
    members = []
    for number in range(count):
        user = User.objects.create_user(
            email=f"{prefix.lower()}{number}@a.test", first_name=f"{prefix}{number:03d}"
        )
        members.append(Membership.objects.create(user=user, practice=practice, role=Membership.Role.STAFF))
    return members


def select_options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)[0]
    return re.findall(r'<option value="([^"]*)"', select)


def checkboxes(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)"', html)


def test_a_small_practice_offers_everyone_and_no_search_box(client, alice, bob, dora):
    html = login(client, alice).get(NEW).content.decode()
    assert set(select_options(html, "staff")) == {str(alice.pk), str(bob.pk), str(dora.pk)}
    assert len(checkboxes(html, "assignees")) == 3
    assert 'name="staff_q"' not in html and 'name="assignee_q"' not in html


@pytest.mark.parametrize("more", [40, 120])
def test_a_large_practice_offers_a_bounded_picker_with_a_search_box(
    client, alice, bob, practice_a, more, django_assert_num_queries
):
    hire(practice_a, more)
    login(client, alice)
    client.get(NEW)
    with django_assert_num_queries(8):  # session, user, memberships, one bounded read of staff, types, the
        # top bar's count of changes from Google, …
        html = client.get(NEW, {"staff": bob.pk}).content.decode()
    staff = select_options(html, "staff")
    assert len(staff) <= PICKER_LIMIT + 1 and str(bob.pk) in staff  # the chosen one is always offered
    assert len(checkboxes(html, "assignees")) <= PICKER_LIMIT + 1
    assert 'name="staff_q"' in html and 'name="assignee_q"' in html
    assert 'formmethod="get"' in html  # "Find" works without JavaScript


def test_typing_in_the_search_box_narrows_the_picker_and_keeps_the_choice(client, alice, bob, practice_a):
    hire(practice_a, 40)
    [zed] = hire(practice_a, 1, prefix="Zed")
    html = login(client, alice).get(OPTIONS, {"picker": "staff", "staff": bob.pk, "staff_q": "zed"}).content
    assert html.decode().startswith('<select name="staff"')
    assert select_options(html.decode(), "staff") == [str(zed.pk), str(bob.pk)]
    ticked = client.get(OPTIONS, {"picker": "assignees", "assignees": [bob.pk], "assignee_q": "zed"})
    html = ticked.content.decode()
    assert checkboxes(html, "assignees") == [str(zed.pk), str(bob.pk)]
    assert f'value="{bob.pk}" id="id_assignees_1" checked' in html


def test_no_one_of_another_practice_is_ever_found(client, alice, charlie, practice_a):
    hire(practice_a, 40)
    html = login(client, alice).get(OPTIONS, {"picker": "staff", "staff_q": "charlie"}).content.decode()
    assert select_options(html, "staff") == []
    html = client.get(OPTIONS, {"picker": "staff", "staff": charlie.pk}).content.decode()
    assert str(charlie.pk) not in select_options(html, "staff")
    assert client.get(OPTIONS, {"picker": "title"}).status_code == 404


def test_find_without_javascript_shows_the_form_again_with_what_was_typed(client, alice, bob, practice_a):
    hire(practice_a, 40)
    [zed] = hire(practice_a, 1, prefix="Zed")
    query = {**form_data(bob, title="Crown"), "find": "staff", "staff_q": "zed"}
    html = login(client, alice).get(NEW, query).content.decode()
    assert 'value="Crown"' in html and 'value="zed"' in html
    assert select_options(html, "staff") == [str(zed.pk), str(bob.pk)]


def test_anyone_of_the_practice_can_be_booked_even_if_not_offered(client, alice, practice_a):
    last = hire(practice_a, 40)[-1]
    give_office_hours(last)
    login(client, alice).post(NEW, form_data(last))
    assert Appointment.objects.get().staff == last


def test_the_lists_staff_filter_is_bounded_and_searchable(client, alice, practice_a):
    [zed] = hire(practice_a, 1, prefix="Zed")
    hire(practice_a, 40)
    html = login(client, alice).get("/calendars/list/").content.decode()
    assert len(select_options(html, "staff")) <= PICKER_LIMIT + 1 and 'name="staff_q"' in html
    found = client.get("/calendars/list/", {"staff_q": "zed"}).content.decode()
    assert select_options(found, "staff") == ["", str(zed.pk)]
    narrowed = client.get(OPTIONS, {"picker": "staff", "form": "list", "staff_q": "zed"}).content.decode()
    assert select_options(narrowed, "staff") == ["", str(zed.pk)]
