"""The walker itself: a public page that names a practice by slug is walked for foreign titles."""

from __future__ import annotations

import pytest

from tests.conftest import login

from .conftest import practice_a_ids, practice_a_values
from .test_tenancy_walk import walk
from .urlwalk import object_routes

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.security.public_page_urls")]


def test_a_public_page_is_walked_with_practice_as_slug_and_may_answer(client, scene):
    routes = {route.name: route for route in object_routes()}
    booking = routes["public_booking"]
    assert booking.is_public and not routes["invitation_open"].is_public
    values = practice_a_values()
    assert f"/book/{scene.alice.practice.slug}/" in list(booking.paths(practice_a_ids(), values=values))

    assert walk(login(client, scene.charlie), booking, practice_a_ids(), scene.titles, values=values) == []


def test_a_public_page_that_shows_practice_a_titles_fails_the_walk(client, scene):
    leak = next(route for route in object_routes() if route.name == "public_leak")
    with pytest.raises(AssertionError):
        walk(client, leak, practice_a_ids(), scene.titles, values=practice_a_values())
