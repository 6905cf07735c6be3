"""Views answer 405 to the methods they do not handle: every portal URL, from the URLconf."""

from __future__ import annotations

import inspect

import pytest
from django.urls import resolve

from tests.conftest import login

from .conftest import practice_a_ids
from .test_tenancy_walk import fingerprint
from .urlwalk import Route, portal_routes, variants

pytestmark = pytest.mark.django_db

UNHANDLED = ("put", "patch", "delete", "trace")


@pytest.mark.parametrize("route", portal_routes(), ids=lambda r: r.name or r.route)
def test_unhandled_methods_get_405(client, scene, route):
    """alice asks with the ids of her own practice's rows, so the method (not the id) is refused."""
    login(client, scene.alice)
    ids = practice_a_ids()
    wrong = []
    for path in route.paths(ids):
        for method in UNHANDLED:
            response = client.generic(method.upper(), path)
            if response.status_code not in {404, 405}:
                wrong.append(f"{method.upper()} {path} → {response.status_code}")
    assert not wrong, "\n".join(wrong)


def declared_methods(view) -> set[str] | None:
    """The methods ``view`` accepts by Django's ``require_http_methods`` (``require_GET``,
    ``require_POST``, ``require_safe`` are built on it), looked up through its decorators; None when
    it declares none."""
    while view is not None:
        try:
            methods = inspect.getclosurevars(view).nonlocals.get("request_method_list")
        except TypeError:  # not a Python function (a class instance, a builtin)
            methods = None
        if methods is not None:
            return set(methods)
        view = getattr(view, "__wrapped__", None)
    return None


def view_of(route: Route, ids: list[int]):
    return resolve(next(route.paths(ids))).func


def test_every_portal_view_declares_the_methods_it_answers(scene):
    ids = practice_a_ids()
    undeclared = [r.route for r in portal_routes() if declared_methods(view_of(r, ids)) is None]
    assert not undeclared, "use require_safe / require_POST / require_http_methods:\n" + "\n".join(undeclared)


@pytest.mark.parametrize("route", portal_routes(), ids=lambda r: r.name or r.route)
def test_a_view_that_only_shows_answers_405_to_post_and_writes_nothing(
    client, scene, route, django_capture_on_commit_callbacks
):
    """A page that does not declare POST refuses it (plain and htmx) rather than showing itself."""
    ids = practice_a_ids()
    if "POST" in (declared_methods(view_of(route, ids)) or set()):
        pytest.skip("handles POST")
    login(client, scene.alice)
    before = fingerprint()
    wrong = []
    with django_capture_on_commit_callbacks(execute=True):
        for path in route.paths(ids):
            for method, headers in variants():
                if method == "post" and (status := client.post(path, **headers).status_code) != 405:
                    wrong.append(f"POST {path} {'htmx ' if headers else ''}→ {status}")
    assert not wrong, "\n".join(wrong)
    assert fingerprint() == before
