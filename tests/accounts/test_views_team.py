"""Team pages: members and roles, invitations, working hours. Admins only (staff: their own hours)."""

from __future__ import annotations

import re
from datetime import time

from django.core import mail
from pytest_django.asserts import assertRedirects, assertTemplateNotUsed, assertTemplateUsed

from calendars.models import WorkingHours
from copilot.accounts.models import Membership, User
from tests.conftest import login

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_team_lists_members_with_role_and_state(client, alice, bob, dora):
    Membership.objects.filter(pk=dora.pk).update(is_active=False)
    response = login(client, alice).get("/team/")
    assertTemplateUsed(response, "accounts/partials/team_members.html")
    assert list(response.context["members"]) == [alice, bob, dora]
    html = response.content.decode()
    assert "bob@a.test" in html and "Inactive" in html
    assert '<option value="admin" selected>Practice admin</option>' in html  # alice's row


def test_staff_cannot_open_the_team_pages_and_do_not_see_the_link(client, alice, bob, dora):
    login(client, bob)
    assert client.get("/team/").status_code == 404
    assert client.post("/team/invite/", {"email": "eve@a.test", "role": "staff"}).status_code == 404
    assert client.post(f"/team/{dora.pk}/role/", {"role": "admin"}).status_code == 404
    assert b'href="/team/"' not in client.get("/calendars/").content
    dora.refresh_from_db()
    assert dora.role == Membership.Role.STAFF and not mail.outbox


def test_admins_see_the_team_link(client, alice):
    assert b'href="/team/"' in login(client, alice).get("/calendars/").content


def test_admin_changes_a_members_role(client, alice, bob):
    response = login(client, alice).post(f"/team/{bob.pk}/role/", {"role": "admin"})
    assertRedirects(response, "/team/", fetch_redirect_response=False)
    bob.refresh_from_db()
    assert bob.role == Membership.Role.ADMIN


def test_role_change_over_htmx_returns_the_members_row(client, alice, bob):
    response = login(client, alice).post(f"/team/{bob.pk}/role/", {"role": "admin"}, **HTMX)
    assertTemplateUsed(response, "accounts/partials/member_row.html")
    assertTemplateNotUsed(response, "base.html")
    html = response.content.decode()
    assert f'<tr id="member-{bob.pk}">' in html
    assert "Bob is now Practice admin." in html  # messages, swapped out of band


def test_the_last_admin_cannot_step_down(client, alice):
    response = login(client, alice).post(f"/team/{alice.pk}/role/", {"role": "staff"}, follow=True)
    assert "A practice needs at least one admin." in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_admin


def test_invite_emails_a_link_that_sets_a_password_and_lets_them_in(
    client, alice, django_capture_on_commit_callbacks
):
    login(client, alice)
    with django_capture_on_commit_callbacks(execute=True):  # the email goes out on commit
        response = client.post(
            "/team/invite/", {"email": "Eve@A.test", "first_name": "Eve", "last_name": "Ng", "role": "staff"}
        )
    assertRedirects(response, "/team/", fetch_redirect_response=False)
    eve = Membership.objects.get(user__email="eve@a.test")
    assert (eve.practice, eve.role) == (alice.practice, Membership.Role.STAFF)
    (email,) = mail.outbox
    assert email.to == ["eve@a.test"] and "Practice A" in email.subject
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", email.body).group(1)

    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "password1" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(set_url, {"password1": "a-new-strong-pass-42", "password2": "a-new-strong-pass-42"})
    assert done.status_code == 302
    assert User.objects.get(email="eve@a.test").check_password("a-new-strong-pass-42")

    logged_in = client.post("/accounts/login/", {"login": "eve@a.test", "password": "a-new-strong-pass-42"})
    assert logged_in.status_code == 302
    week = client.get("/calendars/")
    assert week.status_code == 200 and week.context["staff"] == eve


def test_invite_over_htmx_refreshes_the_members_and_clears_the_form(
    client, alice, django_capture_on_commit_callbacks
):
    login(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/invite/", {"email": "eve@a.test", "role": "staff"}, **HTMX)
    assert response["HX-Retarget"] == "#team-members"
    html = response.content.decode()
    assert "eve@a.test" in html
    assert '<div id="team-invite" hx-swap-oob="true">' in html
    assert len(mail.outbox) == 1


def test_inviting_an_existing_member_is_a_field_error(client, alice, bob):
    response = login(client, alice).post("/team/invite/", {"email": "bob@a.test", "role": "staff"}, **HTMX)
    assertTemplateUsed(response, "accounts/partials/invite_form.html")
    assert response.context["invite_form"].errors["email"] == [
        "bob@a.test is already a member of Practice A."
    ]
    assert not mail.outbox


def test_invite_requires_a_valid_email(client, alice):
    response = login(client, alice).post("/team/invite/", {"email": "not-an-email", "role": "staff"})
    assertTemplateUsed(response, "accounts/team.html")
    assert "email" in response.context["invite_form"].errors
    assert not mail.outbox


# --- working hours --------------------------------------------------------------------------------


def hours_post(**intervals) -> dict:
    data = {f"d{d}_{part}{i}": "" for d in range(7) for part in ("start", "end") for i in range(2)}
    data.update(intervals)
    return data


def test_admin_sets_a_members_working_hours_with_two_intervals_a_day(client, alice, bob):
    data = hours_post(
        d0_start0="08:00",
        d0_end0="12:00",
        d0_start1="13:00",
        d0_end1="17:00",
        d2_start0="09:00",
        d2_end0="15:00",
    )
    response = login(client, alice).post(f"/calendars/working-hours/{bob.pk}/", data)
    assertRedirects(response, f"/calendars/working-hours/{bob.pk}/", fetch_redirect_response=False)
    saved = list(WorkingHours.objects.filter(member=bob).values_list("weekday", "start_time", "end_time"))
    assert saved == [(0, time(8), time(12)), (0, time(13), time(17)), (2, time(9), time(15))]


def test_working_hours_form_refuses_an_end_before_the_start(client, alice, bob):
    response = login(client, alice).post(
        f"/calendars/working-hours/{bob.pk}/", hours_post(d1_start0="17:00", d1_end0="09:00")
    )
    assert response.context["form"].errors["d1_end0"] == ["The end must be after the start."]
    assert WorkingHours.objects.filter(member=bob).count() == 7  # unchanged


def test_working_hours_form_is_prefilled_with_the_current_hours(client, alice, bob):
    form = login(client, alice).get(f"/calendars/working-hours/{bob.pk}/").context["form"]
    assert form["d0_start0"].value() == time(8) and form["d0_end0"].value() == time(18)


def test_staff_view_their_own_working_hours_but_cannot_change_them(client, bob):
    login(client, bob)
    page = client.get(f"/calendars/working-hours/{bob.pk}/")
    assert page.status_code == 200
    assert b"Save working hours" not in page.content
    assert client.post(f"/calendars/working-hours/{bob.pk}/", hours_post()).status_code == 404
    assert WorkingHours.objects.filter(member=bob).count() == 7


def test_staff_cannot_see_a_teammates_working_hours(client, bob, dora):
    assert login(client, bob).get(f"/calendars/working-hours/{dora.pk}/").status_code == 404
