"""Views answer 405 to the methods they do not handle: every portal URL, from the URLconf."""

from __future__ import annotations

import pytest

from tests.conftest import login

from .conftest import practice_a_ids
from .urlwalk import portal_routes

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
