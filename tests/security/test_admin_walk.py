"""Django admin is for the operator's staff only: every admin URL sends a portal admin to its sign-in."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from copilot.accounts.models import User
from tests.conftest import login

from .conftest import practice_a_ids
from .test_tenancy_walk import fingerprint
from .urlwalk import Route, all_routes

pytestmark = pytest.mark.django_db


OPEN = {"login", "logout"}  # the admin's sign-in page is public by design; sign-out only signs out


def admin_routes() -> list[Route]:
    """The admin's route patterns (its app index is a regex of app labels: covered by the model pages)."""
    return [
        Route(route=r, name=n)
        for r, n in all_routes()
        if r.startswith("admin/") and "(?P<" not in r and n not in OPEN
    ]


def test_admin_is_closed_to_portal_users(client, scene, django_capture_on_commit_callbacks):
    routes = admin_routes()
    assert len(routes) > 20
    ids = practice_a_ids()[:3]
    admin_login = reverse("admin:login")
    before = fingerprint()
    opened = []
    with django_capture_on_commit_callbacks(execute=True):
        for route in routes:
            for path in route.paths(ids, ids_everywhere=True):
                for method in ("get", "post"):
                    login(client, scene.charlie)  # admin's logout URL would sign him out
                    response = getattr(client, method)(path)
                    location = response.get("Location", "")
                    if response.status_code not in {404, 405} and not location.startswith(admin_login):
                        opened.append(f"{method.upper()} {path} → {response.status_code} {location}")
                    for title in scene.titles:
                        assert title not in response.content.decode(errors="replace")
    assert not opened, "\n".join(opened)
    after = fingerprint()
    after.pop("accounts.User"), before.pop("accounts.User")  # signing in again sets last_login
    assert after == before


# Pages a staff account that is not a superuser may open: the admin's own and permission groups.
STAFF_PAGES = ("admin/", "admin/password_change/", "admin/password_change/done/", "admin/jsi18n/")
STAFF_MODELS = {("auth", "group")}  # permission groups: no practice data


def test_a_staff_account_with_every_permission_sees_no_practice_data(
    client, scene, django_capture_on_commit_callbacks
):
    """Practice data in admin (the book, Google sync, practices, people, queued email) is for
    superusers; an operator's staff account given every permission sees none of it, and changes none."""
    staff = User.objects.create_user(email="ops@copilot.test", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    index = client.get(reverse("admin:index")).content.decode()
    listed = set(re.findall(r'href="/admin/(\w+)/(\w+)/"', index))
    assert listed <= STAFF_MODELS, f"the admin index offers {sorted(listed - STAFF_MODELS)}"
    assert len(admin.site._registry) > 10

    secrets = (*scene.titles, scene.alice.user.email, scene.bob.user.email)
    ids = practice_a_ids()[:3]
    before = fingerprint()
    opened = []
    with django_capture_on_commit_callbacks(execute=True):
        for route in admin_routes():
            staff_page = route.route in STAFF_PAGES or route.route.startswith("admin/auth/group/")
            for path in route.paths(ids, ids_everywhere=True):
                for method in ("get", "post"):
                    response = getattr(client, method)(path)
                    if response.status_code == 200 and not staff_page:
                        opened.append(f"{method.upper()} {path} → 200")
                    for secret in secrets:
                        assert secret not in response.content.decode(errors="replace"), (method, path)
    assert not opened, "\n".join(opened)
    assert fingerprint() == before
