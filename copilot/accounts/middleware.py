"""Resolve the practice a request works in (the practice switcher's choice)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from .selectors import memberships_for_user

SESSION_KEY = "current_practice_id"


def _current_membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = list(memberships_for_user(user=user))
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.practice_id == wanted:
            return membership
    # Without a choice, the practice she joined first: joining another never changes her default.
    return min(memberships, key=lambda membership: membership.pk)


class CurrentPracticeMiddleware:
    """Sets ``request.membership`` (or None) and ``request.practice`` lazily."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cache: dict = {}

        def membership():
            if "m" not in cache:
                cache["m"] = _current_membership(request)
            return cache["m"]

        request.get_membership = membership
        request.membership = SimpleLazyObject(membership)
        return self.get_response(request)
