"""django-allauth hooks for connecting a Google account to a signed-in user.

allauth drops the ``scope`` field of Google's token response, and would store tokens in
plaintext. So the callback runs through our subclass of the Google adapter, which keeps the
token response in memory on the request and gives allauth a blank token
(``SOCIALACCOUNT_STORE_TOKENS`` is off as well); when allauth has connected the account, our
social account adapter hands the response to ``connection_from_oauth`` (tokens go into
encrypted columns only) and sends the person to pick calendars.
"""

from __future__ import annotations

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialToken
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.urls import reverse
from django.utils.http import urlencode

REQUEST_ATTRIBUTE = "_google_token_response"


class GoogleAdapter(GoogleOAuth2Adapter):
    """Google's adapter, keeping the token response (with its granted ``scope``) off allauth's hands."""

    def parse_token(self, data) -> SocialToken:
        # The tokens stay in the response (kept on the request by complete_login) until
        # connection_from_oauth encrypts them; allauth's SocialLogin carries a blank token that
        # it can neither store nor serialize into the session.
        return SocialToken(token="", token_secret="")

    def complete_login(self, request, app, token, **kwargs):
        response = dict(kwargs.get("response") or {})
        setattr(request, REQUEST_ATTRIBUTE, response)
        # Without an id_token allauth reads the profile with the access token: lend it an unsaved copy.
        reader = SocialToken(token=response.get("access_token", ""))
        login = super().complete_login(request, app, reader, **kwargs)
        login.token = token
        return login


login_view = OAuth2LoginView.adapter_view(GoogleAdapter)
callback_view = OAuth2CallbackView.adapter_view(GoogleAdapter)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google accounts are connected to a signed-in user, never used to sign up or log in."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def get_connect_redirect_url(self, request, socialaccount) -> str:
        # Called once allauth has saved the account (new or existing).
        from integrations.services import connection_from_oauth

        response = getattr(request, REQUEST_ATTRIBUTE, None)
        is_ours = socialaccount.pk is not None and socialaccount.user_id == request.user.pk
        if response is None or socialaccount.provider != "google" or not is_ours:
            # allauth refused the connection (for example: that Google account is already
            # connected to another person); its message says why. The tokens die with the request.
            return reverse("integrations:connections")
        connection = connection_from_oauth(
            user=request.user, social_account=socialaccount, token_response=response
        )
        if connection.state == connection.State.MISSING_PERMISSIONS:
            return reverse("integrations:connections")  # the warning says what is missing
        return reverse("integrations:choose_calendars", args=[connection.pk])

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        # The portal shows connection changes itself; no "account connected" emails.
        return None


def connect_url(*, login_hint: str = "") -> str:
    """Where a Connect or Reconnect form posts: allauth's Google login in its connect process."""
    params = {"process": "connect"}
    if login_hint:
        params["auth_params"] = urlencode({"login_hint": login_hint})
    return f"{reverse('google_login')}?{urlencode(params)}"
