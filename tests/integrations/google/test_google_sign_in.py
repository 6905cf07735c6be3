"""Google is connected, never used to sign in (issue 10, point 4).

Through allauth's real flow over HTTP against the emulator's consent page: the login view, the
callback, One Tap, and (as if our routes were dropped) allauth's stock views with our adapter.
"""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import login

from .oauth_flow import (
    HOST,
    ONE_TAP,
    STOCK_ALLAUTH,
    consent,
    finish,
    signed_in_user_id,
    try_google_sign_in,
    try_one_tap,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("process", ["login", "redirect", ""])
def test_an_anonymous_google_sign_in_signs_nobody_in(bob_consented, bob, google, process):
    visitor = Client()
    response = try_google_sign_in(visitor, google, email=bob.user.email, process=process)
    assert signed_in_user_id(visitor) is None, "consenting at Google signed the visitor in as bob"
    assert response.status_code == 404
    assert visitor.get(reverse("calendars:week"), HTTP_HOST=HOST).status_code == 302, "still signed out"


def test_an_anonymous_connect_is_sent_to_sign_in_not_to_google(bob_consented, bob, google):
    visitor = Client()
    response = visitor.post(f"{reverse('google_login')}?process=connect", HTTP_HOST=HOST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login")), response["Location"]
    assert signed_in_user_id(visitor) is None


def test_a_signed_in_person_cannot_switch_to_another_account_by_google_sign_in(
    bob_consented, bob, dora, google
):
    dora_client = login(Client(), dora)
    response = try_google_sign_in(dora_client, google, email=bob.user.email, process="login")
    assert signed_in_user_id(dora_client) == str(dora.user.pk), "dora was switched to bob's account"
    assert response.status_code == 404


def test_the_one_tap_endpoint_is_closed(bob_consented, bob, google):
    visitor = Client()
    response = try_one_tap(visitor, google, email=bob.user.email)
    assert signed_in_user_id(visitor) is None, "One Tap signed the visitor in as bob"
    assert response.status_code == 404
    assert visitor.get(ONE_TAP, HTTP_HOST=HOST).status_code == 404


def test_the_adapter_refuses_sign_in_even_through_allauths_stock_views(bob_consented, bob, dora, google):
    """Were the 404 routes ever dropped, allauth's own views still sign no one in."""
    with override_settings(ROOT_URLCONF=STOCK_ALLAUTH):
        visitor = Client()
        response = try_google_sign_in(visitor, google, email=bob.user.email, process="login")
        assert signed_in_user_id(visitor) is None
        assert response.status_code == 403
        response = try_one_tap(Client(), google, email=bob.user.email)
        assert response.status_code == 403
        dora_client = login(Client(), dora)
        try_google_sign_in(dora_client, google, email=bob.user.email, process="login")
        assert signed_in_user_id(dora_client) == str(dora.user.pk)
    assert not SocialToken.objects.exists()
    assert list(SocialAccount.objects.values_list("user", flat=True)) == [bob.user.pk]


def test_our_callback_refuses_a_sign_in_state_before_asking_google_for_tokens(bob_consented, bob, google):
    visitor = Client()
    with override_settings(ROOT_URLCONF=STOCK_ALLAUTH):  # only allauth's stock view stashes such a state
        start = visitor.post(f"{reverse('google_login')}?process=login", HTTP_HOST=HOST)
    callback = consent(start["Location"], email=bob.user.email)
    google.reset_stats()
    response = finish(visitor, callback)
    assert response.status_code == 403
    assert signed_in_user_id(visitor) is None
    token_calls = {r: s for r, s in google.stats()["requests"].items() if "token" in r}
    assert not token_calls, f"the code was exchanged for tokens: {token_calls}"
