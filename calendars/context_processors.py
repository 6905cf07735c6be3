"""The top bar's count of changes from Google nobody has handled yet."""

from __future__ import annotations

from .inbox import inbox_unread_count


def inbox_unread(request) -> dict:
    """A callable, so only pages that render the top bar pay for its one query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "get_membership"):
        return {}
    membership = request.get_membership()
    if membership is None:
        return {}
    return {"inbox_unread_count": lambda: inbox_unread_count(practice=membership.practice)}
