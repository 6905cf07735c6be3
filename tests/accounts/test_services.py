"""Inviting people into a practice and changing their role."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import resolve
from django.utils import timezone
from freezegun import freeze_time

from copilot.accounts.models import Invitation, Membership, User
from copilot.accounts.services import invitation_accept, invitation_revoke, member_invite, membership_set_role
from tests.conftest import make_member

BASE_URL = "https://portal.example.test"


@pytest.fixture
def invite(alice, django_capture_on_commit_callbacks):
    """Invite into Practice A as alice, sending the email as a commit would."""

    def _invite(email: str, **kwargs):
        kwargs.setdefault("role", Membership.Role.STAFF)
        with django_capture_on_commit_callbacks(execute=True):
            return member_invite(
                practice=alice.practice, email=email, invited_by=alice.user, base_url=BASE_URL, **kwargs
            )

    return _invite


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_inviting_a_new_person_creates_the_user_and_the_membership(invite, practice_a):
    invitation = invite("Erin.New@Example.test", first_name="Erin", last_name="Ng")
    user = User.objects.get(email="erin.new@example.test")
    assert invitation.user == user and invitation.state == Invitation.State.ACCEPTED
    membership = Membership.objects.get(user=user)
    assert membership.user == user and membership.practice == practice_a
    assert membership.role == Membership.Role.STAFF and membership.is_active
    assert (user.first_name, user.last_name) == ("Erin", "Ng")
    assert not user.has_usable_password()
    # Her address counts once she sets her password from the link (see test_views_team).
    assert EmailAddress.objects.get(user=user).verified is False


def test_the_invitation_email_carries_a_working_set_password_link(invite):
    invite("erin@example.test", first_name="Erin")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erin@example.test"]
    assert message.subject == "You have been invited to Practice A on Copilot Calendars"
    assert "Alice has invited you to Practice A" in message.body
    link = urlparse(link_in(message))
    assert f"{link.scheme}://{link.netloc}" == BASE_URL
    match = resolve(link.path)
    assert match.url_name == "account_reset_password_from_key"
    user = User.objects.get(email="erin@example.test")
    assert default_token_generator.check_token(user, match.kwargs["key"])


def test_the_invitation_email_waits_for_the_commit(alice):
    # The test transaction never commits, so the on_commit email never goes out.
    member_invite(
        practice=alice.practice, email="erin@example.test", invited_by=alice.user, base_url=BASE_URL
    )
    assert mail.outbox == []


def test_an_existing_user_is_only_invited_until_she_accepts(invite, charlie, practice_a):
    """Behaviour change (issue 10, point 1): an existing account no longer joins at once."""
    before = User.objects.count()
    invitation = invite("charlie@b.test", role=Membership.Role.ADMIN)
    assert User.objects.count() == before
    assert invitation.state == Invitation.State.PENDING and invitation.user is None
    assert not Membership.objects.filter(user=charlie.user, practice=practice_a).exists()
    charlie.user.refresh_from_db()
    assert charlie.user.has_usable_password()
    link = urlparse(link_in(mail.outbox[0]))
    assert resolve(link.path).url_name == "invitation_open"
    assert "accept or decline" in mail.outbox[0].body

    membership = invitation_accept(invitation=invitation, user=charlie.user)
    assert membership.practice == practice_a and membership.is_admin and membership.is_active
    invitation.refresh_from_db()
    assert (invitation.state, invitation.user) == (Invitation.State.ACCEPTED, charlie.user)


def test_an_unverified_address_is_never_matched_to_its_account(invite, charlie, practice_a):
    """Point 3: charlie added dora's address without proving it; the invitation cannot reach him."""
    EmailAddress.objects.filter(user=charlie.user).update(primary=False)
    EmailAddress.objects.create(user=charlie.user, email="dora@clinic.test", primary=True, verified=False)
    User.objects.filter(pk=charlie.user.pk).update(email="dora@clinic.test")
    invitation = invite("dora@clinic.test")
    assert invitation.state == Invitation.State.PENDING
    with pytest.raises(ValidationError, match="another email address"):
        invitation_accept(invitation=invitation, user=charlie.user)
    assert not Membership.objects.filter(user=charlie.user, practice=practice_a).exists()


def test_an_expired_or_revoked_invitation_cannot_be_accepted(invite, charlie, practice_a, settings):
    invitation = invite("charlie@b.test")
    later = timezone.now() + timedelta(days=settings.INVITATION_EXPIRE_DAYS, seconds=1)
    with freeze_time(later), pytest.raises(ValidationError, match="expired"):
        invitation_accept(invitation=invitation, user=charlie.user)
    invitation_revoke(invitation=invitation)
    with pytest.raises(ValidationError, match="withdrawn"):
        invitation_accept(invitation=invitation, user=charlie.user)
    assert not Membership.objects.filter(user=charlie.user, practice=practice_a).exists()


def test_a_second_pending_invitation_to_the_same_address_is_refused(invite, charlie):
    invite("charlie@b.test")
    with pytest.raises(ValidationError, match="already has a pending invitation"):
        invite("Charlie@B.test")
    assert len(mail.outbox) == 1


def test_inviting_a_current_member_again_is_refused(invite, bob):
    with pytest.raises(ValidationError) as info:
        invite("BOB@a.test")
    assert info.value.message_dict == {"email": ["bob@a.test is already a member of Practice A."]}
    assert mail.outbox == []
    assert Membership.objects.filter(user=bob.user).count() == 1


def test_inviting_a_former_member_reactivates_them_with_the_new_role_once_she_accepts(invite, bob):
    bob.is_active = False
    bob.save()
    invitation = invite("bob@a.test", role=Membership.Role.ADMIN)
    bob.refresh_from_db()
    assert not bob.is_active  # behaviour change: pending until she accepts
    membership = invitation_accept(invitation=invitation, user=bob.user)
    assert membership.pk == bob.pk
    bob.refresh_from_db()
    assert bob.is_active and bob.role == Membership.Role.ADMIN
    assert len(mail.outbox) == 1


def test_the_last_admin_cannot_step_down(alice):
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_set_role(membership=alice, role=Membership.Role.STAFF)
    alice.refresh_from_db()
    assert alice.is_admin


def test_an_admin_can_step_down_when_another_admin_remains(alice, bob):
    membership_set_role(membership=bob, role=Membership.Role.ADMIN)
    membership_set_role(membership=alice, role=Membership.Role.STAFF)
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.role, bob.role) == (Membership.Role.STAFF, Membership.Role.ADMIN)


def test_an_inactive_admin_does_not_count_as_the_remaining_admin(alice, practice_a):
    former = make_member(practice_a, "former@a.test", Membership.Role.ADMIN)
    former.is_active = False
    former.save()
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_set_role(membership=alice, role=Membership.Role.STAFF)


def test_an_admin_of_another_practice_does_not_count(alice, charlie):
    with pytest.raises(ValidationError):
        membership_set_role(membership=alice, role=Membership.Role.STAFF)


def test_an_unknown_role_is_refused(alice, bob):
    with pytest.raises(ValidationError, match="Unknown role"):
        membership_set_role(membership=bob, role="owner")
    bob.refresh_from_db()
    assert bob.role == Membership.Role.STAFF
