from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: practice admins invite their staff."""

    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP
