"""Hardening (issue 10, point 13): CSP, caching, referrer, permissions, HTTPS in production,
405s, and flash messages that never travel in a cookie."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from tests.conftest import login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
WEEK = "/calendars/week/"


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_portal_pages_carry_a_strict_content_security_policy(client, alice):
    policy = directives(login(client, alice).get(WEEK))
    assert policy["script-src"] == "script-src 'self'", "scripts only from our static files"
    assert policy["default-src"] == "default-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["base-uri"] == "base-uri 'none'"
    assert policy["style-src-elem"] == "style-src-elem 'self'", "no injected <style> elements"
    assert "unsafe" not in policy["script-src"] and "unsafe-eval" not in str(policy)


def test_the_sign_in_page_carries_it_too(client):
    assert "frame-ancestors 'none'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_forms_may_post_to_us_and_to_googles_consent_page_only(client, alice):
    form_action = directives(login(client, alice).get(WEEK))["form-action"].split()[1:]
    authorize = django_settings.GOOGLE_URLS["authorize"]
    assert form_action[0] == "'self'"
    assert form_action[1:] == ["/".join(authorize.split("/")[:3])]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def test_no_template_relies_on_inline_script(subtests):
    """The CSP refuses inline <script>, on…= handlers, hx-on and javascript: URLs: none may be used."""
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert templates
    for path in templates:
        text = path.read_text()
        with subtests.test(template=str(path.relative_to(ROOT))):
            assert not INLINE_SCRIPT.search(text)
            assert not HANDLER.search(text), HANDLER.search(text)
            assert "javascript:" not in text.lower()


def test_unlink_still_asks_first_through_the_portal_script(client, alice, connect):
    connect(alice)
    html = login(client, alice).get("/calendars/settings/connections/").content.decode()
    assert 'data-confirm="Stop syncing with alice@a.test?' in html
    assert "data-confirm" in (ROOT / "static/js/portal.js").read_text()


def test_signed_in_pages_are_never_stored(client, alice):
    for url in (WEEK, "/calendars/list/", "/team/", "/calendars/settings/connections/"):
        response = login(client, alice).get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_htmx_fragments_are_never_stored_either(client, alice):
    response = login(client, alice).get(WEEK, HTTP_HX_REQUEST="true")
    assert "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(client, alice, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = login(client, alice).get("/static/css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_referrer_and_permissions_policies(client, alice):
    response = login(client, alice).get(WEEK)
    assert response["Referrer-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get("/accounts/login/")["Permissions-Policy"] == permissions


def test_flash_messages_with_a_patient_name_stay_on_the_server(client, alice, bob):
    day = (timezone.now().astimezone(alice.practice.zone) + timedelta(days=3)).date()
    data = {
        "staff": bob.pk,
        "title": "Filling: Lucia Romero",
        "date": day.isoformat(),
        "start_time": "09:00",
        "end_time": "10:00",
        "location": "",
        "notes": "",
    }
    response = login(client, alice).post("/calendars/appointments/new/", data)
    assert response.status_code == 302
    assert "messages" not in response.cookies, "the message travelled in a cookie"
    assert all("Lucia" not in morsel.value for morsel in response.cookies.values())
    page = client.get(response["Location"]).content.decode()
    assert "Booked “Filling: Lucia Romero”" in page, "the message is still shown, from the session"


def test_the_root_redirect_answers_405_to_post(client, alice):
    assert login(client, alice).post("/").status_code == 405


@pytest.mark.parametrize(
    "url",
    ["/settings/integrations/", "/calendars/settings/connections/", "/calendars/settings/connections/add/"],
)
def test_pages_that_only_show_refuse_post(client, alice, url):
    assert login(client, alice).post(url).status_code == 405


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GOOGLE_", "SECURE_"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.example.com",
        DATABASE_URL=f"sqlite:///{ROOT / 'var' / 'deploy-check.sqlite3'}",
        DJANGO_SETTINGS_MODULE="copilot.settings",
    )
    env.update(overrides)
    return env


def test_check_deploy_is_clean_with_production_settings():
    """``manage.py check --deploy`` with a production-like environment reports nothing at all."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout


def test_production_redirects_to_https_and_sends_hsts():
    """(The HTTPS request is a PUT, refused before any page renders: no collectstatic needed.)"""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "plain = c.get('/accounts/login/', HTTP_HOST='portal.example.com')\n"
        "secure = c.put('/accounts/login/', HTTP_HOST='portal.example.com', secure=True)\n"
        "print(plain.status_code, plain['Location'])\n"
        "print(secure['Strict-Transport-Security'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    redirect, hsts = result.stdout.splitlines()[-2:]
    assert redirect == "301 https://portal.example.com/accounts/login/"
    assert hsts == "max-age=31536000; includeSubDomains; preload"
