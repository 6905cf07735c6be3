"""OAuth 2.0 / OpenID Connect against the emulator, driven like a browser and by google-auth."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import id_token
from googleapiclient.errors import HttpError

from google_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.helpers import wait_until

from .conftest import CALENDAR, EVENTS, READONLY, SIGN_IN, Google, reason_of

REDIRECT = "http://127.0.0.1:9/accounts/google/login/callback/"


class FormParser(HTMLParser):
    """Collects the consent form's action and inputs as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.inputs: list[dict[str, str]] = []
        self.buttons: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input":
            self.inputs.append(values)
        elif tag == "button":
            self.buttons.append(values)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def of_type(self, kind: str) -> list[dict[str, str]]:
        return [i for i in self.inputs if i.get("type") == kind]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_params(scopes: list[str], **extra: str) -> dict[str, str]:
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": "state-123",
        "access_type": "offline",
        "prompt": "consent",
    }
    return params | extra


def open_consent(google: Google, params: dict[str, str]) -> FormParser:
    page = requests.get(google.url + "/o/oauth2/v2/auth", params=params, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    form = FormParser()
    form.feed(page.text)
    return form


def submit(
    google: Google, form: FormParser, *, email: str, scopes: list[str] | None, action: str
) -> dict[str, str]:
    """Post the consent form; return the query of the redirect (never followed)."""
    fields = [(i["name"], i["value"]) for i in form.of_type("hidden")]
    fields.append(("email", email))
    ticked = [i["value"] for i in form.of_type("checkbox")] if scopes is None else scopes
    fields += [("scope", s) for s in ticked]
    fields.append(("action", action))
    answer = requests.post(google.url + form.action, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def exchange(google: Google, code: str, verifier: str | None = None, **extra: str) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    }
    if verifier:
        data["code_verifier"] = verifier
    return requests.post(google.url + "/token", data=data | extra, timeout=10)


def sign_in(
    google: Google, email: str, scopes: list[str], granted: list[str] | None = None, **extra: str
) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    params = auth_params(scopes, code_challenge=challenge, code_challenge_method="S256", **extra)
    redirect = submit(google, open_consent(google, params), email=email, scopes=granted, action="allow")
    answer = exchange(google, redirect["code"], verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_consent_page_offers_accounts_and_each_scope_in_plain_words(
    google: Google, ana: str, ben: str
) -> None:
    form = open_consent(google, auth_params([*SIGN_IN, CALENDAR], login_hint=ben))

    radios = {r["value"]: "checked" in r for r in form.of_type("radio")}
    assert radios == {ana: False, ben: True}
    assert {c["value"] for c in form.of_type("checkbox")} == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        CALENDAR,
    }
    assert all("checked" in c for c in form.of_type("checkbox"))
    text = " ".join(form.text)
    assert (
        "See, edit, share, and permanently delete all the calendars you can access using Google Calendar"
        in text
    )
    assert {(b["name"], b["value"]) for b in form.buttons} == {("action", "allow"), ("action", "deny")}


def test_code_flow_with_pkce_returns_tokens_and_a_verifiable_id_token(google: Google, ana: str) -> None:
    verifier, challenge = pkce_pair()
    params = auth_params([*SIGN_IN, CALENDAR], code_challenge=challenge, code_challenge_method="S256")
    redirect = submit(google, open_consent(google, params), email=ana, scopes=None, action="allow")
    assert redirect["state"] == "state-123"

    tokens = exchange(google, redirect["code"], verifier).json()

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["refresh_token"]
    assert set(tokens["scope"].split()) == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        CALENDAR,
    }
    claims = id_token.verify_token(
        tokens["id_token"],
        GoogleRequest(),
        audience=DEFAULT_CLIENT_ID,
        certs_url=google.url + "/oauth2/v1/certs",
    )
    assert claims["iss"] == google.url
    assert claims["email"] == ana and claims["email_verified"] is True
    assert claims["sub"].isdigit() and claims["azp"] == DEFAULT_CLIENT_ID
    assert claims["name"] == "Ana Diaz" and claims["given_name"] == "Ana"


def test_id_token_also_verifies_against_the_jwks_endpoint(google: Google, ana: str) -> None:
    tokens = google.tokens(ana)
    claims = id_token.verify_token(
        tokens["id_token"],
        GoogleRequest(),
        audience=DEFAULT_CLIENT_ID,
        certs_url=google.url + "/oauth2/v3/certs",
    )
    assert claims["email"] == ana


def test_granular_consent_without_calendar_leaves_the_api_closed(google: Google, ana: str) -> None:
    tokens = sign_in(google, ana, [*SIGN_IN, CALENDAR], granted=["openid"])

    assert CALENDAR not in tokens["scope"].split()
    assert "https://www.googleapis.com/auth/userinfo.email" in tokens["scope"].split()
    service = google.service(ana, credentials=_creds(google, tokens))
    with pytest.raises(HttpError) as caught:
        service.calendarList().list().execute()
    assert caught.value.resp.status == 403
    assert reason_of(caught.value) == "insufficientPermissions"


def _creds(google: Google, tokens: dict[str, Any]) -> Any:
    from google.oauth2.credentials import Credentials

    return Credentials(
        tokens["access_token"],
        refresh_token=tokens.get("refresh_token"),
        token_uri=google.url + "/token",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        scopes=tokens["scope"].split(),
    )


def test_cancel_redirects_with_access_denied_and_the_state(google: Google, ana: str) -> None:
    redirect = submit(
        google, open_consent(google, auth_params(SIGN_IN)), email=ana, scopes=None, action="deny"
    )
    assert redirect == {"error": "access_denied", "state": "state-123"}


def test_a_code_works_once(google: Google, ana: str) -> None:
    redirect = submit(
        google, open_consent(google, auth_params(SIGN_IN)), email=ana, scopes=None, action="allow"
    )
    assert exchange(google, redirect["code"]).status_code == 200

    again = exchange(google, redirect["code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_pkce_verifier_must_match_the_challenge(google: Google, ana: str) -> None:
    _, challenge = pkce_pair()
    params = auth_params(SIGN_IN, code_challenge=challenge, code_challenge_method="S256")
    code = submit(google, open_consent(google, params), email=ana, scopes=None, action="allow")["code"]

    wrong = exchange(google, code, "not-the-verifier-" + "x" * 40)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


def test_missing_pkce_verifier_is_refused(google: Google, ana: str) -> None:
    _, challenge = pkce_pair()
    params = auth_params(SIGN_IN, code_challenge=challenge, code_challenge_method="S256")
    code = submit(google, open_consent(google, params), email=ana, scopes=None, action="allow")["code"]
    assert exchange(google, code).json()["error"] == "invalid_grant"


def test_exchange_needs_the_same_redirect_uri(google: Google, ana: str) -> None:
    code = submit(google, open_consent(google, auth_params(SIGN_IN)), email=ana, scopes=None, action="allow")[
        "code"
    ]
    answer = exchange(google, code, redirect_uri="http://127.0.0.1:9/elsewhere")
    assert answer.status_code == 400
    assert answer.json()["error"] == "redirect_uri_mismatch"


def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(google: Google) -> None:
    params = auth_params(SIGN_IN, redirect_uri="https://evil.example/callback")
    page = requests.get(google.url + "/o/oauth2/v2/auth", params=params, allow_redirects=False, timeout=10)
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "Error 400: redirect_uri_mismatch" in page.text


def test_registered_client_accepts_only_its_listed_redirect_uris(google: Google, ana: str) -> None:
    google.control(
        "POST", "clients", {"client_id": "other.apps", "client_secret": "s3", "redirect_uris": [REDIRECT]}
    )
    ok = auth_params(SIGN_IN, client_id="other.apps")
    assert requests.get(google.url + "/o/oauth2/v2/auth", params=ok, timeout=10).status_code == 200
    loopback = ok | {"redirect_uri": "http://127.0.0.1:9/other"}
    assert requests.get(google.url + "/o/oauth2/v2/auth", params=loopback, timeout=10).status_code == 400


def test_unknown_client_is_an_error_page(google: Google) -> None:
    page = requests.get(
        google.url + "/o/oauth2/v2/auth",
        params=auth_params(SIGN_IN, client_id="nope"),
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 401
    assert "invalid_client" in page.text


def test_unknown_scope_redirects_with_invalid_scope(google: Google) -> None:
    params = auth_params(["openid", "https://www.googleapis.com/auth/drive"])
    answer = requests.get(google.url + "/o/oauth2/v2/auth", params=params, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    assert query == {"error": "invalid_scope", "state": "state-123"}


def test_include_granted_scopes_unions_earlier_grants(google: Google, ana: str) -> None:
    sign_in(google, ana, [*SIGN_IN, READONLY])

    with_union = sign_in(google, ana, [*SIGN_IN, EVENTS], include_granted_scopes="true")
    without = sign_in(google, ana, [*SIGN_IN, EVENTS])

    assert {READONLY, EVENTS} <= set(with_union["scope"].split())
    assert READONLY not in without["scope"].split()


def test_refresh_after_revoke_raises_refresh_error(google: Google, ana: str) -> None:
    creds = google.credentials(ana)
    revoked = requests.post(google.url + "/revoke", data={"token": creds.refresh_token}, timeout=10)
    assert revoked.status_code == 200

    with pytest.raises(RefreshError) as caught:
        creds.refresh(GoogleRequest())
    assert caught.value.args[0].startswith("invalid_grant")
    assert (
        requests.post(google.url + "/revoke", data={"token": creds.refresh_token}, timeout=10).status_code
        == 400
    )


def test_revoking_an_account_kills_its_access_tokens(google: Google, ana: str) -> None:
    service = google.service(ana)
    service.calendarList().list().execute()
    google.control("POST", "revoke", {"email": ana})
    with pytest.raises(RefreshError):
        service.calendarList().list().execute()


def test_expired_access_token_gets_google_401_and_credentials_refresh_transparently(
    google: Google, ana: str
) -> None:
    google.control("POST", "config", {"access_token_lifetime": 1})
    creds = google.credentials(ana)
    google.control("POST", "config", {"access_token_lifetime": 3600})
    stale = creds.token
    api = google.url + "/calendar/v3/users/me/calendarList"

    def rejected() -> requests.Response | None:
        answer = requests.get(api, headers={"Authorization": f"Bearer {stale}"}, timeout=10)
        return answer if answer.status_code == 401 else None

    expired = wait_until(lambda: [r for r in [rejected()] if r is not None])[0]
    assert expired.json()["error"]["errors"][0] == {
        "message": "Invalid Credentials",
        "domain": "global",
        "reason": "authError",
        "location": "Authorization",
        "locationType": "header",
    }
    assert expired.json()["error"]["status"] == "UNAUTHENTICATED"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    google.control("POST", "stats/reset")

    listing = google.service(ana, credentials=creds).calendarList().list().execute()

    assert listing["items"][0]["id"] == ana
    assert creds.token != stale
    assert google.stats()["requests"]["GET /calendar/v3/users/me/calendarList"] == {"401": 1, "200": 1}


def test_refresh_with_a_scope_beyond_the_grant_is_invalid_scope(google: Google, ana: str) -> None:
    tokens = google.tokens(ana, [*SIGN_IN, READONLY])
    data = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    }
    wider = requests.post(google.url + "/token", data=data | {"scope": CALENDAR}, timeout=10)
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"

    narrower = requests.post(google.url + "/token", data=data | {"scope": READONLY}, timeout=10).json()
    assert narrower["scope"] == READONLY
    assert "refresh_token" not in narrower


def test_refresh_returns_scope_and_id_token_but_no_new_refresh_token(google: Google, ana: str) -> None:
    tokens = google.tokens(ana)
    auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)  # HTTP Basic client authentication
    body = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    fresh = requests.post(google.url + "/token", data=body, auth=auth, timeout=10).json()
    assert fresh["scope"] == tokens["scope"]
    assert fresh["id_token"]
    assert "refresh_token" not in fresh


def test_wrong_client_secret_is_invalid_client(google: Google, ana: str) -> None:
    tokens = google.tokens(ana)
    body = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": DEFAULT_CLIENT_ID,
    }
    answer = requests.post(google.url + "/token", data=body | {"client_secret": "wrong"}, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_userinfo_in_v2_and_openid_shapes(google: Google, ana: str) -> None:
    headers = {"Authorization": "Bearer " + google.tokens(ana)["access_token"]}
    v2 = requests.get(google.url + "/oauth2/v2/userinfo", headers=headers, timeout=10).json()
    v3 = requests.get(google.url + "/oauth2/v3/userinfo", headers=headers, timeout=10).json()
    assert v2["email"] == ana and v2["verified_email"] is True and v2["id"].isdigit()
    assert v2["given_name"] == "Ana" and v2["family_name"] == "Diaz"
    assert v3["sub"] == v2["id"] and v3["email_verified"] is True
    assert requests.get(google.url + "/oauth2/v2/userinfo", timeout=10).status_code == 401


def test_discovery_document_points_at_the_emulator(google: Google) -> None:
    config = requests.get(google.url + "/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == google.url
    assert config["token_endpoint"] == google.url + "/token"
    certs = requests.get(config["jwks_uri"], timeout=10).json()
    assert certs["keys"][0]["alg"] == "RS256"


def test_prompt_none_succeeds_only_after_consent(google: Google, ana: str) -> None:
    silent = auth_params(SIGN_IN, prompt="none", login_hint=ana)
    first = requests.get(google.url + "/o/oauth2/v2/auth", params=silent, allow_redirects=False, timeout=10)
    assert "error=consent_required" in first.headers["Location"]

    sign_in(google, ana, SIGN_IN)
    second = requests.get(google.url + "/o/oauth2/v2/auth", params=silent, allow_redirects=False, timeout=10)
    assert "code=" in second.headers["Location"]
