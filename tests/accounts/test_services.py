"""Inviting people into a practice and changing their role."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from allauth.account.forms import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import resolve

from copilot.accounts.models import Membership, User
from copilot.accounts.services import member_invite, membership_set_role
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
    membership = invite("Erin.New@Example.test", first_name="Erin", last_name="Ng")
    user = User.objects.get(email="erin.new@example.test")
    assert membership.user == user and membership.practice == practice_a
    assert membership.role == Membership.Role.STAFF and membership.is_active
    assert (user.first_name, user.last_name) == ("Erin", "Ng")
    assert not user.has_usable_password()


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


def test_an_existing_user_joins_without_a_new_account_or_password_reset(invite, charlie):
    before = User.objects.count()
    membership = invite("charlie@b.test", role=Membership.Role.ADMIN)
    assert User.objects.count() == before
    assert membership.user == charlie.user and membership.is_admin
    charlie.user.refresh_from_db()
    assert charlie.user.has_usable_password()
    assert link_in(mail.outbox[0]) == BASE_URL
    assert "Sign in with your existing account" in mail.outbox[0].body


def test_inviting_a_current_member_again_is_refused(invite, bob):
    with pytest.raises(ValidationError) as info:
        invite("BOB@a.test")
    assert info.value.message_dict == {"email": ["bob@a.test is already a member of Practice A."]}
    assert mail.outbox == []
    assert Membership.objects.filter(user=bob.user).count() == 1


def test_inviting_a_former_member_reactivates_them_with_the_new_role(invite, bob):
    bob.is_active = False
    bob.save()
    membership = invite("bob@a.test", role=Membership.Role.ADMIN)
    assert membership.pk == bob.pk
    bob.refresh_from_db()
    assert bob.is_active and bob.role == Membership.Role.ADMIN
    assert len(mail.outbox) == 1


def test_the_last_admin_cannot_step_down(alice):
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_set_role(membership=alice, role=Membership.Role.STAFF, actor=alice)
    alice.refresh_from_db()
    assert alice.is_admin


def test_an_admin_can_step_down_when_another_admin_remains(alice, bob):
    membership_set_role(membership=bob, role=Membership.Role.ADMIN, actor=alice)
    membership_set_role(membership=alice, role=Membership.Role.STAFF, actor=bob)
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.role, bob.role) == (Membership.Role.STAFF, Membership.Role.ADMIN)


def test_an_inactive_admin_does_not_count_as_the_remaining_admin(alice, practice_a):
    former = make_member(practice_a, "former@a.test", Membership.Role.ADMIN)
    former.is_active = False
    former.save()
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_set_role(membership=alice, role=Membership.Role.STAFF, actor=alice)


def test_an_admin_of_another_practice_does_not_count(alice, charlie):
    with pytest.raises(ValidationError):
        membership_set_role(membership=alice, role=Membership.Role.STAFF, actor=alice)


def test_an_unknown_role_is_refused(alice, bob):
    with pytest.raises(ValidationError, match="Unknown role"):
        membership_set_role(membership=bob, role="owner", actor=alice)
    bob.refresh_from_db()
    assert bob.role == Membership.Role.STAFF
