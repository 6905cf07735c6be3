"""Issue 10, points 1 and 3: inviting someone who already has an account makes a pending
invitation she accepts signed in, with a verified address; the inviting practice sees nothing of
her before. Driven over HTTP, through allauth's real email pages."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from pytest_django.asserts import assertRedirects

from copilot.accounts.middleware import SESSION_KEY
from copilot.accounts.models import Invitation, Membership
from tests.conftest import PASSWORD, login, make_member


@pytest.fixture
def invite_as(django_capture_on_commit_callbacks):
    """POST the Team page's invite form as ``admin``; the email goes out as a commit would send it."""

    def _invite(client, admin: Membership, email: str, role: str = "staff"):
        login(client, admin)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/team/invite/", {"email": email, "role": role})

    return _invite


def link_in(message) -> str:
    return re.search(r"http://testserver(/\S+)", message.body).group(1)


def test_inviting_someone_of_another_practice_leaves_her_invisible_until_she_accepts(
    client, invite_as, alice, bob, charlie, practice_a, practice_b, book
):
    response = invite_as(client, charlie, "bob@a.test")
    assertRedirects(response, "/team/", fetch_redirect_response=False)

    # Practice B has no membership of hers: not on the team, not bookable, her week does not open.
    assert not Membership.objects.filter(user=bob.user, practice=practice_b).exists()
    team = client.get("/team/")
    assert list(team.context["members"]) == [charlie]
    assert "Invited, pending" in team.content.decode()
    week = client.get("/calendars/week/")
    assert "Bob" not in week.content.decode()
    assert client.get(f"/calendars/week/?staff={bob.pk}").status_code == 404

    # She gets an email with a link, and a notice in her portal; her practice stays A.
    (message,) = mail.outbox
    assert message.to == ["bob@a.test"] and "Practice B" in message.subject
    link = link_in(message)
    bobs = login(Client(), bob)
    page = bobs.get("/calendars/")
    assert page.context["current_practice"] == practice_a
    assert 'href="/invitations/">Invitations (1)</a>' in page.content.decode()
    shown = bobs.get(link)
    assert shown.status_code == 200 and "Practice B" in shown.content.decode()

    invitation = Invitation.objects.get(email="bob@a.test")
    accepted = bobs.post(f"/invitations/{invitation.pk}/accept/")
    assertRedirects(accepted, "/invitations/", fetch_redirect_response=False)
    joined = Membership.objects.get(user=bob.user, practice=practice_b)
    assert joined.is_active and joined.role == Membership.Role.STAFF
    assert bobs.get("/calendars/").context["current_practice"] == practice_a  # default unchanged
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.ACCEPTED
    assert bob.user in [m.user for m in login(client, charlie).get("/team/").context["members"]]


def test_the_link_and_the_buttons_work_only_for_the_invited_account(client, invite_as, bob, charlie, dora):
    invite_as(client, charlie, "bob@a.test")
    invitation = Invitation.objects.get(email="bob@a.test")
    link = link_in(mail.outbox[0])

    doras = login(Client(), dora)
    assert doras.get(link).status_code == 404
    assert doras.post(f"/invitations/{invitation.pk}/accept/").status_code == 404
    assert doras.post(f"/invitations/{invitation.pk}/decline/").status_code == 404
    assert b"Invitations (" not in doras.get("/calendars/").content
    # charlie, who sent it, cannot accept it for her either.
    assert login(Client(), charlie).post(f"/invitations/{invitation.pk}/accept/").status_code == 404

    anonymous = Client().get(link)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/accounts/login/")
    assert Client().get("/invitations/open/forged-token/").status_code == 302
    assert login(Client(), bob).get("/invitations/open/forged-token/").status_code == 404

    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.PENDING
    assert not Membership.objects.filter(user=dora.user, practice=charlie.practice).exists()


def test_declining_leaves_no_membership(client, invite_as, bob, charlie, practice_b):
    invite_as(client, charlie, "bob@a.test")
    invitation = Invitation.objects.get(email="bob@a.test")
    bobs = login(Client(), bob)
    assertRedirects(
        bobs.post(f"/invitations/{invitation.pk}/decline/"), "/invitations/", fetch_redirect_response=False
    )
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.DECLINED
    assert not Membership.objects.filter(user=bob.user, practice=practice_b).exists()
    assert bobs.post(f"/invitations/{invitation.pk}/accept/").status_code == 404


def test_admins_resend_and_revoke_pending_invitations(
    client, invite_as, bob, charlie, alice, django_capture_on_commit_callbacks
):
    invite_as(client, charlie, "bob@a.test")
    invitation = Invitation.objects.get(email="bob@a.test")

    # Only the inviting practice's admins: another practice's admin and staff get a 404.
    assert login(Client(), alice).post(f"/team/invitations/{invitation.pk}/revoke/").status_code == 404
    staff_b = make_member(charlie.practice, "sam@b.test")
    assert login(Client(), staff_b).post(f"/team/invitations/{invitation.pk}/resend/").status_code == 404

    login(client, charlie)
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(f"/team/invitations/{invitation.pk}/resend/", HTTP_HX_REQUEST="true")
    assert resent.status_code == 200 and "queued again" in resent.content.decode()
    assert len(mail.outbox) == 2

    assertRedirects(
        client.post(f"/team/invitations/{invitation.pk}/revoke/"), "/team/", fetch_redirect_response=False
    )
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED
    assert login(Client(), bob).get(link_in(mail.outbox[1])).status_code == 404
    assert "Invited, pending" not in login(client, charlie).get("/team/").content.decode()


def test_an_address_added_without_proof_cannot_be_made_primary_nor_bring_an_invitation(
    client, invite_as, alice, practice_a, practice_b, django_capture_on_commit_callbacks
):
    """Point 3: a staff member of B claims an address she does not own; A's admin invites it."""
    mallory = make_member(practice_b, "mallory@b.test")
    mallorys = login(Client(), mallory)
    with django_capture_on_commit_callbacks(execute=True):
        added = mallorys.post("/accounts/email/", {"action_add": "", "email": "lucia@clinic.test"})
    assert added.status_code == 302
    assert mail.outbox[-1].to == ["lucia@clinic.test"]  # the proof goes to the address, not to her
    mallorys.post("/accounts/email/", {"action_primary": "", "email": "lucia@clinic.test"})
    claimed = EmailAddress.objects.get(email="lucia@clinic.test")
    assert claimed.user == mallory.user and not claimed.verified and not claimed.primary

    invite_as(client, alice, "lucia@clinic.test")
    assert not Membership.objects.filter(user=mallory.user, practice=practice_a).exists()
    assert b"Invitations (" not in mallorys.get("/calendars/").content
    invitation = Invitation.objects.get(email="lucia@clinic.test")
    assert mallorys.post(f"/invitations/{invitation.pk}/accept/").status_code == 404


def test_an_account_with_an_unverified_address_cannot_sign_in(client, practice_a):
    member = make_member(practice_a, "unproven@a.test")
    EmailAddress.objects.filter(user=member.user).update(verified=False)
    response = client.post("/accounts/login/", {"login": "unproven@a.test", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/confirm-email/"
    assert client.get("/calendars/").status_code == 302  # not signed in


def test_setting_the_password_from_the_invitation_verifies_the_address(client, invite_as, alice):
    invite_as(client, alice, "eve@a.test")
    eve = Membership.objects.get(user__email="eve@a.test").user
    assert not EmailAddress.objects.get(user=eve).verified
    client.logout()
    form = client.get(link_in(mail.outbox[0]), follow=True)
    set_url = form.redirect_chain[-1][0]
    client.post(set_url, {"password1": "a-new-strong-pass-42", "password2": "a-new-strong-pass-42"})
    address = EmailAddress.objects.get(user=eve)
    assert address.verified and address.primary and address.email == "eve@a.test"


def test_without_a_chosen_practice_she_works_in_the_one_she_joined_first(client, charlie, practice_a):
    """Joining practice A (name sorts first) must not move charlie out of B by default."""
    Membership.objects.create(user=charlie.user, practice=practice_a)
    login(client, charlie)
    assert SESSION_KEY not in client.session
    assert client.get("/calendars/").context["current_practice"] == charlie.practice


def test_django_admin_lists_invitations_read_only(client, invite_as, charlie, bob, django_user_model):
    invite_as(client, charlie, "bob@a.test")
    root = django_user_model.objects.create_superuser(email="root@x.test", password=PASSWORD)
    client.force_login(root)
    listing = client.get("/admin/accounts/invitation/")
    assert listing.status_code == 200 and "bob@a.test" in listing.content.decode()
    invitation = Invitation.objects.get()
    change = client.post(f"/admin/accounts/invitation/{invitation.pk}/change/", {"state": "accepted"})
    assert change.status_code == 403
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.PENDING
