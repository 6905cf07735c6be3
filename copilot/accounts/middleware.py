"""Resolve the practice a request works in (the practice switcher's choice)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from .selectors import memberships_for_user

SESSION_KEY = "current_practice_id"


def _memberships(request) -> list:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(memberships_for_user(user=user))


def _current_membership(request, memberships: list):
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.practice_id == wanted:
            return membership
    # Without a choice, the practice she joined first: joining another never changes her default.
    return min(memberships, key=lambda membership: membership.pk)


class CurrentPracticeMiddleware:
    """Sets ``request.membership`` (or None) and ``request.practice`` lazily.

    ``request.get_memberships()`` is every active membership of the user (the practice switcher's
    list), read once per request with the current one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cache: dict = {}

        def memberships():
            if "all" not in cache:
                cache["all"] = _memberships(request)
            return cache["all"]

        def membership():
            if "m" not in cache:
                cache["m"] = _current_membership(request, memberships())
            return cache["m"]

        request.get_memberships = memberships
        request.get_membership = membership
        request.membership = SimpleLazyObject(membership)
        return self.get_response(request)
