"""allauth's third-party accounts and signup pages cannot bypass our Unlink (issue 10, point 6)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from copilot.accounts.models import User
from integrations.models import GoogleConnection
from tests.conftest import login

from .oauth_flow import HOST, ONE_TAP, connect_through_consent, signed_in_user_id

pytestmark = pytest.mark.django_db
State = GoogleConnection.State


def test_allauths_third_party_page_cannot_remove_the_google_account(
    bob_consented, bob_client, bob, dora, google
):
    account = bob_consented.social_account
    response = bob_client.post("/accounts/3rdparty/", {"account": account.pk}, HTTP_HOST=HOST)
    assert SocialAccount.objects.filter(pk=account.pk).exists(), "allauth removed the Google account"
    assert response.status_code in (404, 405)
    connection = GoogleConnection.objects.get(pk=bob_consented.pk)
    assert connection.social_account_id == account.pk
    assert connection.state == State.SETUP and connection.refresh_token
    # So the Google account stays bob's: nobody else can connect it.
    connect_through_consent(login(Client(), dora), email=bob.user.email)
    assert not GoogleConnection.objects.filter(user=dora.user).exists()
    assert not SocialAccount.objects.filter(user=dora.user).exists()


def test_allauths_third_party_page_sends_people_to_our_connections_tab(bob_client):
    response = bob_client.get("/accounts/3rdparty/", HTTP_HOST=HOST)
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:connections")


@pytest.mark.parametrize("url", ["/accounts/3rdparty/signup/", "/accounts/social/signup/", ONE_TAP])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_allauth_social_endpoints_that_create_or_sign_in_are_closed(client, bob, url, method, who):
    if who == "bob":
        login(client, bob)
    response = getattr(client, method)(url, HTTP_HOST=HOST, follow=True)
    assert response.status_code == 404, response.redirect_chain
    assert signed_in_user_id(client) == (str(bob.user.pk) if who == "bob" else None)


def test_django_admin_cannot_delete_a_google_account_behind_unlinks_back(client, bob_consented):
    client.force_login(User.objects.create_superuser(email="root@copilot.test", password="x"))
    account = bob_consented.social_account
    url = reverse("admin:socialaccount_socialaccount_delete", args=[account.pk])
    assert client.post(url, {"post": "yes"}, HTTP_HOST=HOST).status_code == 403
    assert SocialAccount.objects.filter(pk=account.pk).exists()
