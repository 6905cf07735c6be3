"""State changes for people and practices."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Membership, Practice, User


@transaction.atomic
def practice_create(*, name: str, slug: str, time_zone: str, **fields) -> Practice:
    practice = Practice(name=name, slug=slug, time_zone=time_zone, **fields)
    practice.full_clean()
    practice.save()
    return practice


def _password_set_link(*, user: User, base_url: str) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return f"{base_url.rstrip('/')}{path}"


@transaction.atomic
def member_invite(
    *,
    practice: Practice,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Membership.Role.STAFF,
    invited_by: User,
    base_url: str,
) -> Membership:
    """Add a person to ``practice`` and email them a link to set their password.

    An existing user (by email) just gains the membership. Raises ``ValidationError``
    when they already belong to the practice.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    is_new_user = user is None
    if is_new_user:
        user = User.objects.create_user(email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    membership, created = Membership.objects.get_or_create(
        user=user, practice=practice, defaults={"role": role}
    )
    if not created:
        if membership.is_active:
            raise ValidationError({"email": f"{email} is already a member of {practice.name}."})
        membership.is_active = True
        membership.role = role
        membership.save(update_fields=["is_active", "role"])
    context = {
        "practice": practice,
        "user": user,
        "invited_by": invited_by,
        "link": _password_set_link(user=user, base_url=base_url) if is_new_user else base_url,
        "is_new_user": is_new_user,
    }
    subject = f"You have been invited to {practice.name} on Copilot Calendars"
    body = render_to_string("accounts/email/invite.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor: Membership) -> Membership:
    """Change a member's role. The last admin of a practice cannot step down."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Unknown role."})
    if membership.is_admin and role != Membership.Role.ADMIN:
        admins = Membership.objects.select_for_update(no_key=True).filter(
            practice=membership.practice, role=Membership.Role.ADMIN, is_active=True
        )
        if admins.count() <= 1:
            raise ValidationError({"role": "A practice needs at least one admin."})
    membership.role = role
    membership.save(update_fields=["role"])
    return membership
