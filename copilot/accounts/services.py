"""State changes for people and practices."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import practice_hooks
from .mail import email_queue
from .models import Invitation, Membership, Practice, User


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


INVITATION_SALT = "copilot.accounts.invitation"


def invitation_token(invitation: Invitation) -> str:
    """The signed, expiring token of ``invitation``'s link (``invitation_from_token`` reads it)."""
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def _invitation_link(*, invitation: Invitation, base_url: str) -> str:
    path = reverse("accounts:invitation_open", kwargs={"token": invitation_token(invitation)})
    return f"{base_url.rstrip('/')}{path}"


def _verified_owner(email: str) -> User | None:
    """The account whose verified primary address is ``email``; unverified addresses never count."""
    address = (
        EmailAddress.objects.filter(email__iexact=email, primary=True, verified=True)
        .select_related("user")
        .first()
    )
    return address.user if address else None


def _address_is_taken(email: str) -> bool:
    """Some account already has ``email`` (as its login or as a verified address of its own)."""
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email, verified=True).exists()
    )


def _new_invited_user(*, email: str, first_name: str, last_name: str) -> User:
    """An account for a new person: no password until she sets one from the invitation's link."""
    user = User.objects.create_user(email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    return user


def _invitation_admit_new_person(invitation: Invitation) -> None:
    """Nobody has the address: create her account and membership now (they hold no data anywhere)."""
    try:
        with transaction.atomic():
            user = _new_invited_user(
                email=invitation.email, first_name=invitation.first_name, last_name=invitation.last_name
            )
    except IntegrityError:
        return  # another practice created her account a moment ago: this invitation stays pending
    Membership.objects.create(user=user, practice=invitation.practice, role=invitation.role)
    invitation.user = user
    invitation.state = Invitation.State.ACCEPTED
    invitation.responded = timezone.now()
    invitation.save(update_fields=["user", "state", "responded"])


def _invitation_email_queue(*, invitation: Invitation, base_url: str) -> None:
    """Queue the invitation's email: a set-password link for a new person, else the accept link."""
    is_new_user = invitation.state == Invitation.State.ACCEPTED
    if is_new_user:
        link = _password_set_link(user=invitation.user, base_url=base_url)
    else:
        link = _invitation_link(invitation=invitation, base_url=base_url)
    context = {
        "invitation": invitation,
        "practice": invitation.practice,
        "first_name": invitation.first_name or (invitation.user.first_name if invitation.user else ""),
        "invited_by": invitation.invited_by,
        "link": link,
        "is_new_user": is_new_user,
        "expire_days": settings.INVITATION_EXPIRE_DAYS,
    }
    subject = f"You have been invited to {invitation.practice.name} on Copilot Calendars"
    body = render_to_string("accounts/email/invite.txt", context)
    email_queue(EmailMessage(subject, body, None, [invitation.email]))


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
) -> Invitation:
    """Invite ``email`` into ``practice`` and queue the email (sent after commit, retried).

    - Nobody has the address yet: a new account is created with its membership, as it holds no
      data anywhere; the email carries a set-password link, and setting the password verifies it.
    - Otherwise the invitation stays **pending**: she joins only by accepting it, signed in with
      the address as her verified primary one (``invitation_accept``). Until then the practice
      sees the invitation, never her: no membership, no week, not bookable.

    Raises ``ValidationError`` when she is already an active member or an invitation is pending.
    """
    email = User.objects.normalize_email(email).lower()
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Unknown role."})
    owner = _verified_owner(email)
    if owner and Membership.objects.filter(user=owner, practice=practice, is_active=True).exists():
        raise ValidationError({"email": f"{email} is already a member of {practice.name}."})
    try:
        with transaction.atomic():  # a savepoint: two admins inviting at once meet the constraint
            invitation = Invitation.objects.create(
                practice=practice,
                email=email,
                first_name=first_name,
                last_name=last_name,
                role=role,
                invited_by=invited_by,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"email": f"{email} already has a pending invitation; resend it from the list of invitations."}
        ) from exc
    if not _address_is_taken(email):
        _invitation_admit_new_person(invitation)
    _invitation_email_queue(invitation=invitation, base_url=base_url)
    return invitation


def _ensure_pending(invitation: Invitation) -> None:
    if invitation.state != Invitation.State.PENDING:
        state = invitation.get_state_display().lower()
        raise ValidationError(f"The invitation to {invitation.email} is {state}.")


@transaction.atomic
def invitation_resend(*, invitation: Invitation, base_url: str) -> Invitation:
    """Send a pending invitation again; its link is valid for another ``INVITATION_EXPIRE_DAYS``."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(
            f"The invitation to {invitation.email} is {invitation.get_state_display().lower()}."
        )
    invitation.sent = timezone.now()
    invitation.save(update_fields=["sent"])
    _invitation_email_queue(invitation=invitation, base_url=base_url)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation; its link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(
            f"The invitation to {invitation.email} is {invitation.get_state_display().lower()}."
        )
    invitation.state = Invitation.State.REVOKED
    invitation.responded = timezone.now()
    invitation.save(update_fields=["state", "responded"])
    return invitation


def _open_invitation_for(*, invitation: Invitation, user: User) -> Invitation:
    """``invitation`` locked, when it is open and addressed to ``user``'s verified primary address."""
    invitation = Invitation.objects.select_for_update().select_related("practice").get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError("This invitation has expired or was withdrawn; ask the practice for a new one.")
    if _verified_owner(invitation.email) != user:
        raise ValidationError("This invitation is for another email address.")
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the practice with the invitation's role. Her current practice stays as it is.

    Raises ``ValidationError`` when the invitation is not open or not addressed to ``user``'s
    verified primary address.
    """
    invitation = _open_invitation_for(invitation=invitation, user=user)
    membership, created = Membership.objects.get_or_create(
        user=user, practice=invitation.practice, defaults={"role": invitation.role}
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.role = invitation.role
        membership.save(update_fields=["is_active", "role"])
    invitation.state = Invitation.State.ACCEPTED
    invitation.user = user
    invitation.responded = timezone.now()
    invitation.save(update_fields=["state", "user", "responded"])
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> Invitation:
    """Say no: the practice sees the invitation as declined and learns nothing else about her."""
    invitation = _open_invitation_for(invitation=invitation, user=user)
    invitation.state = Invitation.State.DECLINED
    invitation.responded = timezone.now()
    invitation.save(update_fields=["state", "responded"])
    return invitation


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str) -> Membership:
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


def practice_google_deletion_set(*, practice: Practice, policy: str) -> Practice:
    """Choose what a deletion in Google does to an appointment (``Practice.GoogleDeletion``).

    Raises ``ValueError`` for an unknown policy. Applies to deletions pulled from now on.
    """
    if policy not in Practice.GoogleDeletion.values:
        raise ValueError(f"Unknown deletion policy {policy!r}")
    Practice.objects.filter(pk=practice.pk).update(google_deletion=policy)
    practice.google_deletion = policy
    return practice


def practice_title_privacy_set(*, practice: Practice, privacy: str) -> bool:
    """Set what staff members' Google calendars show of ``practice``'s appointments.

    Returns whether it changed. A change re-pushes the practice's upcoming appointments (through
    ``practice_hooks``: the Google outbox), so calendars follow; an unchanged value pushes nothing.
    Raises ``ValueError`` for a value that is not one of ``Practice.TitlePrivacy``.
    """
    if privacy not in Practice.TitlePrivacy.values:
        raise ValueError(f"Unknown title privacy {privacy!r}")
    with transaction.atomic():
        current = Practice.objects.select_for_update().get(pk=practice.pk)
        practice.external_title_privacy = privacy
        if current.external_title_privacy == privacy:
            return False
        Practice.objects.filter(pk=practice.pk).update(external_title_privacy=privacy)
        practice_hooks.practice_display_changed(practice)
    return True
