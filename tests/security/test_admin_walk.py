"""Django admin is for the operator's staff only: every admin URL sends a portal admin to its sign-in."""

from __future__ import annotations

import pytest
from django.urls import reverse

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
