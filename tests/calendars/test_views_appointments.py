"""Booking, editing and cancelling through the portal's forms, as pages and as htmx modals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from pytest_django.asserts import assertRedirects, assertTemplateNotUsed, assertTemplateUsed

from calendars.models import Appointment, AppointmentChange
from tests.conftest import local, login

NEW = "/calendars/appointments/new/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _before_the_booked_week():
    """These journeys book Mon 23 Nov 2026; they run the week before, so no booking is in the past."""
    with freeze_time("2026-11-16 12:00:00", tick=True):
        yield


def form_data(staff, **overrides) -> dict:
    data = {
        "staff": staff.pk,
        "title": "Filling",
        "date": "2026-11-23",
        "start_time": "09:00",
        "end_time": "10:00",
        "location": "Room 2",
        "notes": "",
    }
    data.update(overrides)
    return data


def edit_url(appointment) -> str:
    return f"/calendars/appointments/{appointment.pk}/edit/"


def cancel_url(appointment) -> str:
    return f"/calendars/appointments/{appointment.pk}/cancel/"


def detail_url(appointment) -> str:
    return f"/calendars/appointments/{appointment.pk}/"


# --- booking --------------------------------------------------------------------------------


def test_booking_through_the_form_creates_the_appointment_and_returns_to_the_week(client, alice, bob):
    response = login(client, alice).post(NEW, form_data(bob))
    appointment = Appointment.objects.get()
    assertRedirects(
        response, f"/calendars/week/?staff={bob.pk}&date=2026-11-23", fetch_redirect_response=False
    )
    p = alice.practice
    assert (appointment.staff, appointment.title, appointment.location) == (bob, "Filling", "Room 2")
    assert (appointment.start, appointment.end) == (local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    assert appointment.created_by == alice.user
    page = client.get(response.url)
    assert "Booked “Filling” for Bob" in page.content.decode()


def test_end_time_defaults_to_the_practices_appointment_length(client, alice, bob):
    alice.practice.default_appointment_minutes = 45
    alice.practice.save()
    login(client, alice).post(NEW, form_data(bob, end_time=""))
    appointment = Appointment.objects.get()
    assert appointment.end - appointment.start == timedelta(minutes=45)


def test_assignees_are_saved(client, alice, bob, dora):
    login(client, alice).post(NEW, form_data(bob, assignees=[dora.pk]))
    assert list(Appointment.objects.get().assignees.all()) == [dora]


def test_new_appointment_form_is_prefilled_from_the_clicked_slot(client, alice, bob):
    response = login(client, alice).get(NEW, {"staff": bob.pk, "date": "2026-11-23", "start": "09:30"})
    form = response.context["form"]
    assert form["staff"].value() == bob.pk
    assert str(form["date"].value()) == "2026-11-23"
    assert form["start_time"].value().strftime("%H:%M") == "09:30"
    assert form["end_time"].value().strftime("%H:%M") == "10:00"  # the practice's 30 minutes


def test_new_appointment_over_htmx_returns_the_form_partial_for_the_modal(client, alice, bob):
    response = login(client, alice).get(NEW, {"staff": bob.pk}, **HTMX)
    assertTemplateUsed(response, "calendars/partials/appointment_form.html")
    assertTemplateNotUsed(response, "calendars/appointment_form.html")
    assert b'hx-post="/calendars/appointments/new/"' in response.content


def test_new_appointment_without_javascript_is_a_full_page_with_the_same_form(client, alice, bob):
    response = login(client, alice).get(NEW)
    assertTemplateUsed(response, "calendars/appointment_form.html")
    assertTemplateUsed(response, "calendars/partials/appointment_form.html")
    assert b"hx-post" not in response.content


def test_htmx_booking_returns_the_refreshed_week_grid_and_closes_the_modal(client, alice, bob):
    response = login(client, alice).post(NEW, form_data(bob), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#week-region"
    assert response["HX-Reswap"] == "outerHTML"
    assert "modal-close" in response["HX-Trigger-After-Settle"]  # once the new grid is in: focus returns
    assert response["HX-Push-Url"] == f"/calendars/week/?staff={bob.pk}&date=2026-11-23"
    html = response.content.decode()
    assert html.startswith('<section id="week-region"') or 'id="week-region"' in html
    assert "Filling" in html
    assert 'id="messages" class="messages" role="status" hx-swap-oob="true"' in html
    assert "Booked “Filling”" in html


def test_double_booking_shows_the_conflict_as_a_field_error(client, alice, bob, book):
    p = alice.practice
    book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    response = login(client, alice).post(
        NEW, form_data(bob, title="Check-up", start_time="09:30", end_time="10:30")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["start_time"] == [
        "Bob already has “Filling” Mon 23 Nov 09:00–10:00."
    ]
    assert Appointment.objects.count() == 1


def test_double_booking_over_htmx_rerenders_the_form_partial_with_the_error(client, alice, bob, book):
    p = alice.practice
    book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    response = login(client, alice).post(NEW, form_data(bob, start_time="09:30", end_time="10:30"), **HTMX)
    assertTemplateUsed(response, "calendars/partials/appointment_form.html")
    assertTemplateNotUsed(response, "base.html")
    assert "HX-Retarget" not in response
    assert "Bob already has “Filling” Mon 23 Nov 09:00–10:00." in response.content.decode()


def test_a_time_skipped_by_daylight_saving_is_a_form_error(client, alice, bob):
    data = form_data(bob, date="2026-03-08", start_time="02:30", end_time="03:30", outside_hours="on")
    response = login(client, alice).post(NEW, data)
    assert response.status_code == 200
    (error,) = response.context["form"].errors["start_time"]
    assert "does not exist in America/New_York" in error
    assert not Appointment.objects.exists()


def test_end_before_start_is_a_form_error(client, alice, bob):
    response = login(client, alice).post(NEW, form_data(bob, start_time="10:00", end_time="09:00"))
    assert response.context["form"].errors["end_time"] == ["The end must be after the start."]


def test_staff_cannot_book_outside_working_hours_even_when_posting_the_override(client, bob):
    response = login(client, bob).post(
        NEW, form_data(bob, start_time="19:00", end_time="19:30", outside_hours="on")
    )
    assert "outside_hours" not in response.context["form"].fields
    (error,) = response.context["form"].errors["start_time"]
    assert "is outside Bob's working hours" in error
    assert not Appointment.objects.exists()


def test_admin_is_refused_outside_working_hours_without_the_override(client, alice, bob):
    response = login(client, alice).post(NEW, form_data(bob, start_time="19:00", end_time="19:30"))
    assert "is outside Bob's working hours" in response.context["form"].errors["start_time"][0]


def test_admin_can_book_outside_working_hours_with_the_override(client, alice, bob):
    response = login(client, alice).post(
        NEW, form_data(bob, start_time="19:00", end_time="19:30", outside_hours="on")
    )
    assert response.status_code == 302
    assert Appointment.objects.get().start == local(alice.practice, 2026, 11, 23, 19)


def test_busy_time_refuses_a_booking_unless_an_admin_confirms(client, alice, bob, busy_source):
    p = alice.practice
    busy_source.add(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), "Personal")
    login(client, alice)
    refused = client.post(NEW, form_data(bob))
    assert "Busy in “Personal”" in refused.context["form"].errors["start_time"][0]
    accepted = client.post(NEW, form_data(bob, busy_time="on"))
    assert accepted.status_code == 302
    assert Appointment.objects.count() == 1


def test_booking_warnings_are_shown_as_messages(client, alice, bob, busy_source):
    busy_source.warning = "Bob's Google Calendar could not be checked just now."
    response = login(client, alice).post(NEW, form_data(bob), follow=True)
    assert "Bob&#x27;s Google Calendar could not be checked just now." in response.content.decode()


def test_staff_can_only_book_for_themselves(client, bob, dora):
    login(client, bob)
    form = client.get(NEW).context["form"]
    assert list(form.fields["staff"].queryset) == [bob]
    response = client.post(NEW, form_data(dora))
    assert "staff" in response.context["form"].errors
    assert not Appointment.objects.exists()
    assert client.post(NEW, form_data(bob)).status_code == 302


# --- editing --------------------------------------------------------------------------------


def test_edit_moves_the_appointment_and_records_it_in_the_history(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    login(client, alice)
    form = client.get(edit_url(appointment)).context["form"]
    assert form["start_time"].value().strftime("%H:%M") == "09:00"
    response = client.post(edit_url(appointment), form_data(bob, start_time="11:00", end_time="12:00"))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == local(p, 2026, 11, 23, 11)
    page = client.get(edit_url(appointment)).content.decode()
    assert "Moved to Mon 23 Nov 11:00–12:00" in page


def test_edit_into_a_conflict_shows_the_conflict_on_the_field(client, alice, bob, book):
    p = alice.practice
    book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    other = book(bob, local(p, 2026, 11, 23, 11), local(p, 2026, 11, 23, 12), title="Check-up")
    response = login(client, alice).post(edit_url(other), form_data(bob, title="Check-up"))
    assert response.context["form"].errors["start_time"] == [
        "Bob already has “Filling” Mon 23 Nov 09:00–10:00."
    ]


def test_htmx_edit_returns_the_week_grid_of_the_appointments_week(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    response = login(client, alice).post(
        edit_url(appointment), form_data(bob, title="Crown", date="2026-11-30"), **HTMX
    )
    assert response["HX-Retarget"] == "#week-region"
    assert response.context["grid"].start_date.isoformat() == "2026-11-30"
    assert "Crown" in response.content.decode()


def test_staff_can_edit_their_own_appointment(client, bob, book):
    p = bob.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    response = login(client, bob).post(edit_url(appointment), form_data(bob, title="Crown"))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.title == "Crown"


def test_staff_cannot_edit_or_cancel_another_members_appointment(client, bob, dora, book):
    p = bob.practice
    appointment = book(dora, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Dora's")
    login(client, bob)
    assert client.get(edit_url(appointment)).status_code == 404
    assert client.post(edit_url(appointment), form_data(dora, title="Hijacked")).status_code == 404
    assert client.get(cancel_url(appointment)).status_code == 404
    assert client.post(cancel_url(appointment)).status_code == 404
    appointment.refresh_from_db()
    assert (appointment.title, appointment.status) == ("Dora's", Appointment.Status.BOOKED)
    detail = client.get(detail_url(appointment))
    assert detail.status_code == 200
    assert edit_url(appointment).encode() not in detail.content
    assert cancel_url(appointment).encode() not in detail.content


# --- cancelling -------------------------------------------------------------------------------


def test_cancel_asks_for_confirmation_first(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    response = login(client, alice).get(cancel_url(appointment))
    assertTemplateUsed(response, "calendars/appointment_cancel.html")
    assert "Cancel this appointment?" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_cancel_removes_the_block_from_the_week_but_keeps_it_in_the_list(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    login(client, alice)
    response = client.post(cancel_url(appointment), {"reason": "Patient is ill"})
    assertRedirects(
        response, f"/calendars/week/?staff={bob.pk}&date=2026-11-23", fetch_redirect_response=False
    )
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    week = client.get(response.url)
    assert [d.appointments for d in week.context["grid"].days] == [[]] * 7
    listed = client.get("/calendars/list/", {"status": "cancelled", "date_from": "2026-11-01"})
    assert list(listed.context["page"]) == [appointment]
    assert "Cancelled: Patient is ill" in client.get(detail_url(appointment)).content.decode()


def test_htmx_cancel_confirmation_is_a_partial_and_the_cancel_refreshes_the_grid(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    login(client, alice)
    confirm = client.get(cancel_url(appointment), **HTMX)
    assertTemplateUsed(confirm, "calendars/partials/appointment_cancel.html")
    assertTemplateNotUsed(confirm, "base.html")
    response = client.post(cancel_url(appointment), **HTMX)
    assert response["HX-Retarget"] == "#week-region"
    assert "Filling" not in response.content.decode().split('id="messages"')[0]


def test_a_cancelled_appointment_cannot_be_edited(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    response = login(client, alice).post(edit_url(appointment), form_data(bob, title="Revived"))
    assertRedirects(response, detail_url(appointment), fetch_redirect_response=False)
    appointment.refresh_from_db()
    assert appointment.title != "Revived"


# --- detail and list ------------------------------------------------------------------------------


def test_detail_shows_the_history_with_where_each_change_came_from(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    AppointmentChange.objects.create(
        appointment=appointment,
        source=AppointmentChange.Source.GOOGLE,
        action="changed",
        summary="Moved to 11:00",
    )
    response = login(client, alice).get(detail_url(appointment))
    html = response.content.decode()
    assert "Changed in Google" in html and "Moved to 11:00" in html
    assert "Booked Mon 23 Nov 09:00–10:00" in html
    assertTemplateUsed(response, "calendars/partials/appointment_extra.html")


def test_detail_over_htmx_is_the_modal_partial(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    response = login(client, alice).get(detail_url(appointment), **HTMX)
    assertTemplateUsed(response, "calendars/partials/appointment_detail.html")
    assertTemplateNotUsed(response, "base.html")


def test_list_filters_by_staff_status_and_date_range(client, alice, bob, dora, book):
    p = alice.practice
    bobs = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Bob early")
    bobs_late = book(bob, local(p, 2026, 12, 20, 9), local(p, 2026, 12, 20, 10), title="Bob late")
    doras = book(dora, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Dora early")
    Appointment.objects.filter(pk=doras.pk).update(status=Appointment.Status.CANCELLED)
    login(client, alice)

    def listed(**params):
        return list(client.get("/calendars/list/", params).context["page"])

    everything = {"date_from": "2026-11-01", "date_to": "2026-12-31"}
    assert listed(**everything) == [bobs, doras, bobs_late]
    assert listed(**everything, staff=bob.pk) == [bobs, bobs_late]
    assert listed(**everything, status="booked") == [bobs, bobs_late]
    assert listed(**everything, status="cancelled") == [doras]
    assert listed(date_from="2026-12-01", date_to="2026-12-31") == [bobs_late]


def test_list_over_htmx_returns_the_results_partial(client, alice):
    response = login(client, alice).get("/calendars/list/", {"status": "booked"}, **HTMX)
    assertTemplateUsed(response, "calendars/partials/appointment_list.html")
    assertTemplateNotUsed(response, "base.html")


def test_the_unfiltered_list_costs_the_same_queries_for_3_and_30_staff(client, alice, bob, dora):
    """Its banner covers everyone in the practice but loads only the members it names."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from integrations.models import GoogleConnection
    from tests.conftest import make_member

    GoogleConnection.objects.create(
        user=bob.user,
        google_uid="uid-bob",
        google_email="bob@a.test",
        state=GoogleConnection.State.NEEDS_RECONNECT,
    )
    login(client, alice)

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(db) as captured:
            html = client.get("/calendars/list/").content.decode()
        return len(captured), html.split('id="connection-banner"')[1].split("</div>")[0]

    few, banner = queries()
    assert "Bob should reconnect" in banner and "Dora" not in banner
    for number in range(27):
        make_member(alice.practice, f"staff{number}@a.test")
    many, banner = queries()
    assert many == few and "Bob should reconnect" in banner and "Staff0" not in banner
