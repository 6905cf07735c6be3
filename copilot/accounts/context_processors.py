from .selectors import memberships_for_user


def current_practice(request):
    """The switcher's data for the portal shell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "get_membership"):
        return {}
    membership = request.get_membership()
    return {
        "current_membership": membership,
        "current_practice": membership.practice if membership else None,
        "switchable_memberships": memberships_for_user(user=user) if membership else [],
    }
