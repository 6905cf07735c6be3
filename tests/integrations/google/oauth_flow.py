"""Drive allauth's Google connect flow through the emulator's consent page, as a browser would."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import requests

HOST = "127.0.0.1"
CALENDAR = "https://www.googleapis.com/auth/calendar"


def start_connect(client, *, login_hint: str = "") -> str:
    """POST the portal's Connect form; returns the Google authorization URL allauth redirects to."""
    from integrations.google.oauth import connect_url

    response = client.post(connect_url(login_hint=login_hint), HTTP_HOST=HOST)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def consent(authorize_url: str, *, email: str, grant: list[str] | None = None, action: str = "allow") -> str:
    """Answer the consent page; returns the callback URL (path and query) Google redirects to.

    ``grant`` lists the scopes left ticked (all requested ones when None): granular consent.
    """
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    form_action = re.search(r'<form method=post action="([^"]+)"', page.text).group(1)
    hidden = dict(re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)"', page.text))
    hidden = {k: v.replace("&amp;", "&").replace("&quot;", '"') for k, v in hidden.items()}
    offered = re.findall(r'<input type=checkbox name=scope id="[^"]+" value="([^"]+)"', page.text)
    scopes = (
        offered
        if grant is None
        else [
            s for s in offered if s in grant or not s.startswith("https://www.googleapis.com/auth/calendar")
        ]
    )
    data = [*hidden.items(), ("email", email), ("action", action), *(("scope", s) for s in scopes)]
    answer = requests.post(urljoin(authorize_url, form_action), data=data, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:500]
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def finish(client, callback: str):
    """Follow Google's redirect back into the portal (same client: the OAuth state is in its session)."""
    return client.get(callback, HTTP_HOST=HOST)


def connect_through_consent(client, *, email: str, grant: list[str] | None = None):
    return finish(client, consent(start_connect(client), email=email, grant=grant))


# --- Attempts to sign in with Google (which must all fail) -------------------------------------

ONE_TAP = "/accounts/google/login/token/"
# The portal's URLconf with allauth's stock views routed first (as if our closures were dropped).
STOCK_ALLAUTH = "tests.integrations.google.stock_allauth_urls"


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def try_google_sign_in(client, google, *, email: str, process: str = "login"):
    """Ask allauth to sign in with Google and, if it sends the browser to Google, consent and return.

    Returns the last response the portal gave.
    """
    from django.urls import reverse
    from django.utils.http import urlencode

    url = f"{reverse('google_login')}?{urlencode({'process': process})}"
    response = client.post(url, HTTP_HOST=HOST)
    if response.status_code == 302 and response["Location"].startswith(google.url):
        return finish(client, consent(response["Location"], email=email))
    return response


def try_one_tap(client, google, *, email: str):
    """POST a Google-signed id_token to allauth's One Tap endpoint, as Google's script would."""
    id_token = google.tokens(email)["id_token"]
    client.cookies["g_csrf_token"] = "double-submit"
    return client.post(ONE_TAP, {"credential": id_token, "g_csrf_token": "double-submit"}, HTTP_HOST=HOST)
