"""The portal shell: practice switcher, people without a practice, sign-in pages, static assets."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from pytest_django.asserts import assertRedirects, assertTemplateUsed

from copilot.accounts.middleware import SESSION_KEY
from copilot.accounts.models import Membership, User
from tests.conftest import PASSWORD, login


def test_practice_switcher_moves_the_user_to_another_of_their_practices(client, alice, charlie, practice_b):
    Membership.objects.create(user=alice.user, practice=practice_b, role=Membership.Role.STAFF)
    login(client, alice)
    assert client.get("/calendars/").context["current_practice"] == alice.practice
    response = client.post("/practice/switch/", {"practice": practice_b.pk})
    assertRedirects(response, "/calendars/week/", fetch_redirect_response=False)
    assert client.session[SESSION_KEY] == practice_b.pk
    page = client.get("/calendars/")
    assert page.context["current_practice"] == practice_b
    assert b'<option value="%d" selected>Practice B</option>' % practice_b.pk in page.content


def test_practice_switcher_refuses_a_practice_the_user_is_not_in(client, bob, practice_b):
    login(client, bob)
    assert client.post("/practice/switch/", {"practice": practice_b.pk}).status_code == 404
    assert client.post("/practice/switch/", {"practice": "nonsense"}).status_code == 404
    assert SESSION_KEY not in client.session


def test_practice_switcher_refuses_an_inactive_membership(client, bob, practice_b):
    Membership.objects.create(user=bob.user, practice=practice_b, is_active=False)
    assert login(client, bob).post("/practice/switch/", {"practice": practice_b.pk}).status_code == 404


def test_practice_switcher_only_accepts_post(client, bob):
    assert login(client, bob).get("/practice/switch/").status_code == 405


def test_a_user_without_a_practice_gets_a_friendly_page(client, db):
    user = User.objects.create_user(email="newbie@x.test", password=PASSWORD)
    client.force_login(user)
    response = client.get("/calendars/")
    assert response.status_code == 200
    assertTemplateUsed(response, "portal/no_practice.html")
    assert "You're not a member of any practice yet" in response.content.decode()
    assert client.get("/calendars/list/").status_code == 404


def test_shell_shows_the_users_name_and_a_post_logout_button(client, alice):
    html = login(client, alice).get("/calendars/").content.decode()
    assert "Alice" in html
    assert '<form method="post" action="/accounts/logout/">' in html
    assert 'hx-headers=\'{"X-CSRFToken":' in html


def test_logout_is_a_post_and_ends_the_session(client, alice):
    login(client, alice)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/calendars/").status_code == 302


def test_sign_in_page_uses_the_portal_look_and_signs_in(client, alice):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assertTemplateUsed(page, "base.html")
    html = page.content.decode()
    assert "css/portal.css" in html and "sign up" not in html.lower()
    response = client.post("/accounts/login/", {"login": "alice@a.test", "password": PASSWORD})
    assertRedirects(response, "/calendars/week/", fetch_redirect_response=False)


def test_password_reset_page_uses_the_portal_look(client, db):
    page = client.get("/accounts/password/reset/")
    assert page.status_code == 200
    assertTemplateUsed(page, "base.html")


def test_htmx_is_vendored_and_served_from_static(client, alice):
    assert finders.find("vendor/htmx/htmx.min.js")
    assert finders.find("vendor/htmx/LICENSE")
    assert finders.find("css/portal.css")
    html = login(client, alice).get("/calendars/").content.decode()
    assert 'src="/static/vendor/htmx/htmx.min.js"' in html


def test_settings_pages_open_in_the_portal_shell(client, bob):
    # The pages' contents belong to the Google integration (tests/integrations); here: the shell.
    login(client, bob)
    connections = client.get("/calendars/settings/connections/")
    assertTemplateUsed(connections, "base.html")
    assert "No calendar is connected yet" in connections.content.decode()
    integrations = client.get("/settings/integrations/")
    assertTemplateUsed(integrations, "base.html")
    assert "Google Calendar" in integrations.content.decode()


def test_not_found_page_tells_a_user_without_a_practice_what_to_do(client, db, settings):
    settings.DEBUG = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = User.objects.create_user(email="newbie@x.test", password=PASSWORD)
    client.force_login(user)
    response = client.get("/calendars/list/")
    assert response.status_code == 404
    assertTemplateUsed(response, "404.html")
    assert "You're not a member of any practice yet" in response.content.decode()
