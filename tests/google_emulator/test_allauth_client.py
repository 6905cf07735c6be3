"""allauth's own OAuth2 client and id_token verification, unchanged, against the emulator.

No database: these are the pieces of allauth's Google login that talk HTTP.
"""

from __future__ import annotations

import urllib.parse

import requests
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Client

from google_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from .conftest import Google
from .test_oauth import FormParser, pkce_pair

CALLBACK = "http://127.0.0.1:8000/accounts/google/login/callback/"


def test_allauth_code_exchange_and_id_token_verification(google: Google, ana: str) -> None:
    client = OAuth2Client(
        None, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "POST", google.url + "/token", CALLBACK
    )
    client.state = "allauth-state"
    verifier, challenge = pkce_pair()
    extra = {
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    scopes = ["profile", "email", "openid", "https://www.googleapis.com/auth/calendar.events"]
    url = client.get_redirect_url(google.url + "/o/oauth2/v2/auth", scopes, extra)
    form = FormParser()
    form.feed(requests.get(url, timeout=10).text)
    fields = [(i["name"], i["value"]) for i in form.of_type("hidden")]
    fields += [("email", ana), ("action", "allow")] + [
        ("scope", c["value"]) for c in form.of_type("checkbox")
    ]
    redirect = requests.post(google.url + form.action, data=fields, allow_redirects=False, timeout=10)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect.headers["Location"]).query))
    assert query["state"] == "allauth-state"

    token = client.get_access_token(query["code"], pkce_code_verifier=verifier)

    assert (
        token["refresh_token"] and "https://www.googleapis.com/auth/calendar.events" in token["scope"].split()
    )
    claims = jwtkit.verify_and_decode(
        credential=token["id_token"],
        keys_url=google.url + "/oauth2/v1/certs",
        issuer=google.url,
        audience=DEFAULT_CLIENT_ID,
        lookup_kid=jwtkit.lookup_kid_pem_x509_certificate,
    )
    assert claims["email"] == ana and claims["email_verified"] is True
