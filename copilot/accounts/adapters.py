"""allauth hooks: no public sign-up, lockout per (account, client IP), mail after commit."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

from .mail import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: practice admins invite their staff."""

    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Failed logins count per (account, client IP), not per account.

        allauth keys its ``login_failed`` limit by the login alone, so five wrong passwords from
        anywhere lock the real person out. With the client IP in the key a stranger only locks
        themselves out; the per-IP part of the limit still slows one address guessing many accounts.
        """
        key = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{key}:{self.get_client_ip(request)}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's mails (confirmations, password resets) leave through the retried email task."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        email_queue(self.render_mail(template_prefix, email, ctx))

    def set_password(self, user, password: str) -> None:
        """Setting the first password from an invitation's link proves the invited address.

        A person created by an invitation has no usable password and one address, the invited
        one; the set-password link was mailed only there, so using it verifies that address.
        """
        first_password = not user.has_usable_password()
        super().set_password(user, password)
        if first_password and user.invitations.filter(email__iexact=user.email).exists():
            addresses = EmailAddress.objects.filter(user=user, email__iexact=user.email)
            addresses.update(verified=True, primary=True)
