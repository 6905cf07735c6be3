"""Template tags through which the book's and the team's pages show Google state.

The appointment book and accounts apps know nothing of Google; their templates load
these tags at the extension points they leave (``appointment_extra.html``, the team row).
"""

from django import template

from ..models import EventLink, GoogleConnection
from ..selectors import WARNING_STATES

register = template.Library()


@register.inclusion_tag("integrations/partials/sync_badge.html")
def appointment_sync_badge(appointment):
    """Where each calendar copy of the appointment stands: synced, pending, waiting, failed (with why)."""
    links = list(
        EventLink.objects.filter(appointment=appointment).select_related("member__user").order_by("pk")
    )
    return {"links": links}


@register.inclusion_tag("integrations/partials/member_connection.html")
def member_google_connection(member):
    """A staff member's Google connection at a glance, with warning states highlighted (Team page)."""
    connections = list(
        GoogleConnection.objects.filter(user_id=member.user_id)
        .exclude(state=GoogleConnection.State.UNLINKED)
        .order_by("created")
    )
    worst = next(
        (c for c in connections if c.state in WARNING_STATES), connections[0] if connections else None
    )
    return {"connection": worst, "needs_attention": worst is not None and worst.state in WARNING_STATES}
