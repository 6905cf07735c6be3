"""django-allauth hooks for connecting a Google account to a signed-in user.

Google is connected, never used to sign in: the login view serves only the connect process
of a signed-in person, the callback refuses any other state before a code is exchanged, and
the social account adapter refuses every non-connect login allauth might still start (One
Tap, a login-process state). ``copilot/urls.py`` routes allauth's sign-in, signup and
third-party-accounts endpoints to the views at the bottom of this module.

allauth drops the ``scope`` field of Google's token response, and would store tokens in
plaintext. So the callback runs through our subclass of the Google adapter, which keeps the
token response in memory on the request and gives allauth a blank token
(``SOCIALACCOUNT_STORE_TOKENS`` is off as well); when allauth has connected the account, our
social account adapter hands the response to ``connection_from_oauth`` (tokens go into
encrypted columns only) and sends the person to pick calendars.
"""

from __future__ import annotations

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialToken
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.utils import get_request_param
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

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


_login_view = OAuth2LoginView.adapter_view(GoogleAdapter)
_callback_view = OAuth2CallbackView.adapter_view(GoogleAdapter)


@login_not_required
def login_view(request: HttpRequest) -> HttpResponse:
    """allauth's Google login, for the connect process of a signed-in person only (404 otherwise)."""
    if get_request_param(request, "process") != AuthProcess.CONNECT:
        raise Http404("Google is not a way to sign in.")
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _login_view(request)


@login_not_required
def callback_view(request: HttpRequest) -> HttpResponse:
    """allauth's Google callback; a state of any process but connect is refused before the code is used."""
    state_id = get_request_param(request, "state") or ""
    stashed = statekit.get_states(request).get(state_id)
    if stashed and stashed[0].get("process") != AuthProcess.CONNECT:
        statekit.unstash_state(request, provider_id=GoogleAdapter.provider_id, state_id=state_id)
        return sign_in_refused(request)
    return _callback_view(request)


def sign_in_refused(request: HttpRequest) -> HttpResponse:
    return render(request, "integrations/google_sign_in_refused.html", status=403)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google accounts are connected to a signed-in user, never used to sign up or log in."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        # Every allauth flow (redirect callback, One Tap, headless) passes here before it logs in.
        if sociallogin.state.get("process") != AuthProcess.CONNECT or not request.user.is_authenticated:
            raise ImmediateHttpResponse(sign_in_refused(request))

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


# --- allauth endpoints we close (routed ahead of allauth.urls) ---------------------------------


@login_not_required
def closed_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """One Tap sign-in and social signup: not part of this portal."""
    raise Http404


@require_safe
def third_party_accounts_view(request: HttpRequest) -> HttpResponse:
    """allauth's third-party accounts page would remove a Google account behind Unlink's back."""
    return redirect("integrations:connections")
