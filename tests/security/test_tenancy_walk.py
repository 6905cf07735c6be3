"""The general tenancy guard: every URL of the portal that names an object, asked by charlie
(Practice B's admin) with the ids of Practice A's rows (and the tokens and slugs that name them),
answers 404/403/405 or sends him to a page of his own, and writes nothing. A page that is public by
design (``login_not_required``) may answer, to him and to anyone signed out, but shows no Practice A
appointment title and writes nothing either. The routes come from the URLconf, so a new URL is
covered the day it is added; see ``urlwalk.SKIPPED`` for the parts left out and why.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client as client_class
from django.urls import Resolver404, resolve

from copilot.accounts.models import Invitation
from tests.conftest import login

from .conftest import practice_a_ids, practice_a_values
from .urlwalk import Route, all_routes, object_routes, skipped_reason, variants

pytestmark = pytest.mark.django_db

REFUSED = {403, 404, 405}


def fingerprint() -> dict[str, list[tuple]]:
    """Every row of every model (sessions aside: signing in writes one), in a comparable form."""
    return {
        model._meta.label: sorted(map(repr, model.objects.order_by("pk").values_list()))
        for model in apps.get_models()
        if model is not Session
    }


def is_own_page(location: str) -> bool:
    """A redirect to sign-in or to a page that names no object is a refusal, not a leak."""
    path = location.split("?")[0]
    if not path.startswith("/"):
        return False
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return not any(isinstance(value, int) for value in match.kwargs.values())


def test_the_walk_covers_the_portals_object_urls(db):
    names = {route.name for route in object_routes()}
    assert {"appointment_detail", "member_role", "working_hours", "unlink", "invitation_open"} <= names
    for route, _ in all_routes():
        assert (
            route.startswith(("admin/", "accounts/"))
            or skipped_reason(route)
            or "<" not in route
            or any(route == r.route for r in object_routes())
        ), route
    known = practice_a_values().keys()
    for route in object_routes():
        for converter, name in route.other_params:
            assert name in known or converter in known, (
                f"teach tests/security/conftest.py:practice_a_values how Practice A's objects are named "
                f"by <{converter}:{name}> in {route.route}"
            )


@pytest.mark.parametrize("route", object_routes(), ids=lambda r: r.name or r.route)
def test_charlie_reaches_nothing_of_practice_a(client, scene, route, django_capture_on_commit_callbacks):
    login(client, scene.charlie)
    ids = practice_a_ids()
    assert len(ids) > 10, "Practice A has rows to aim at"
    assert Invitation.objects.filter(practice=scene.alice.practice, state="pending").exists()
    values = practice_a_values()
    before = fingerprint()
    answers = []
    with django_capture_on_commit_callbacks(execute=True):  # work deferred to commit counts too
        answers += walk(client, route, ids, scene.titles, values=values)
        if route.is_public:
            answers += walk(client_class(), route, ids, scene.titles, values=values)  # signed out
    assert not answers, "charlie reached Practice A's objects:\n" + "\n".join(answers)
    assert fingerprint() == before, "a refused request wrote to the database"


def walk(client, route: Route, ids: list[int], titles, *, values=None) -> list[str]:
    """Ask for ``route`` with every id and value, every variant; the answers that were not refusals.

    A public page may answer anything but a foreign title (checked for every answer).
    """
    answers = []
    for path in route.paths(ids, values=values):
        for method, headers in variants():
            response = getattr(client, method)(path, **headers)
            status = response.status_code
            refused = status in REFUSED or (300 <= status < 400 and is_own_page(response.get("Location", "")))
            if not refused and not route.is_public:
                answers.append(f"{method.upper()} {path} {'htmx ' if headers else ''}→ {status}")
            for title in titles:
                assert title not in response.content.decode(errors="replace"), (method, path)
    return answers
