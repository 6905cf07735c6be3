from .selectors import invitations_for_user, memberships_for_user


def current_practice(request):
    """The switcher's data for the portal shell, and how many invitations wait for her."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "get_membership"):
        return {}
    membership = request.get_membership()
    # The middleware read them with the current membership: no second query for the switcher.
    memberships = getattr(request, "get_memberships", None)
    return {
        "current_membership": membership,
        "current_practice": membership.practice if membership else None,
        "switchable_memberships": (memberships() if memberships else memberships_for_user(user=user))
        if membership
        else [],
        # A callable: only pages that show the notice (the top bar) pay for the query.
        "open_invitation_count": lambda: invitations_for_user(user=user).count(),
    }
