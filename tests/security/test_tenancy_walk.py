"""The general tenancy guard: every URL of the portal that names an object, asked by charlie
(Practice B's admin) with the ids of Practice A's rows, answers 404/403/405 or sends him to a page
of his own, and writes nothing. The routes come from the URLconf, so a new URL is covered the day
it is added; see ``urlwalk.SKIPPED`` for the parts left out and why.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.urls import Resolver404, resolve

from tests.conftest import login

from .conftest import practice_a_ids
from .urlwalk import all_routes, object_routes, skipped_reason, variants

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


def test_the_walk_covers_the_portals_object_urls():
    names = {route.name for route in object_routes()}
    assert {"appointment_detail", "member_role", "working_hours", "unlink"} <= names
    for route, _ in all_routes():
        assert (
            route.startswith(("admin/", "accounts/"))
            or skipped_reason(route)
            or "<" not in route
            or any(route == r.route for r in object_routes())
        ), route


@pytest.mark.parametrize("route", object_routes(), ids=lambda r: r.name or r.route)
def test_charlie_reaches_nothing_of_practice_a(client, scene, route, django_capture_on_commit_callbacks):
    login(client, scene.charlie)
    ids = practice_a_ids()
    assert len(ids) > 10, "Practice A has rows to aim at"
    before = fingerprint()
    answers = []
    with django_capture_on_commit_callbacks(execute=True):  # work deferred to commit counts too
        answers += walk(client, route, ids, scene.titles)
    assert not answers, "charlie reached Practice A's objects:\n" + "\n".join(answers)
    assert fingerprint() == before, "a refused request wrote to the database"


def walk(client, route, ids: list[int], titles) -> list[str]:
    """Ask for ``route`` with every id, every variant; the answers that were not refusals."""
    answers = []
    for path in route.paths(ids):
        for method, headers in variants():
            response = getattr(client, method)(path, **headers)
            status = response.status_code
            refused = status in REFUSED or (300 <= status < 400 and is_own_page(response.get("Location", "")))
            if not refused:
                answers.append(f"{method.upper()} {path} {'htmx ' if headers else ''}→ {status}")
            for title in titles:
                assert title not in response.content.decode(errors="replace"), (method, path)
    return answers
