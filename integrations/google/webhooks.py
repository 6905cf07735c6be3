"""Google push notifications: the one CSRF-exempt, login-free view.

Google posts an empty body with ``X-Goog-*`` headers. Every answer is 200 at once, whatever the
message: a forged or stale message learns nothing and changes nothing, and Google stops retrying.
The work (a debounced incremental pull) happens in a task; see ``channels.receive_notification``.

Each channel id gets ``GOOGLE_WEBHOOK_RATE`` notifications per window (counted in the shared
cache, before any database work). Past that the answer is still 200 but nothing is looked up or
pulled: a notification carries no data, the next pull (debounced, or the regular poll) fetches
every change since the stored sync token, and a 429 or 5xx would only make Google retry with
backoff, adding load exactly while we are flooded. Once the shared cache has said "spent", this
process remembers it until the window ends, so the rest of a flood costs no shared-cache work (with
the database cache: no query) at all. See docs/SECURITY.md, "Rate limits".
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage

from . import channels

logger = logging.getLogger(__name__)

RATE_GROUP = "google-webhook"


def _over_channel_budget(request: HttpRequest) -> bool:
    """Count this notification against its channel id's budget; True once the budget is spent.

    The count lives in the shared cache, so the budget holds across every worker. A "spent" answer
    is also remembered in this process's memory until its window ends: a spent window cannot
    reopen, so this drops only what the shared cache would drop too, and a flood costs each worker
    one shared-cache check past the budget rather than one per message.
    """
    channel_id = request.headers.get("X-Goog-Channel-ID", "")
    spent_key = "webhook-spent:" + hashlib.sha256(channel_id.encode()).hexdigest()
    local = caches["local"]
    if local.get(spent_key):
        return True
    usage = get_usage(
        request,
        group=RATE_GROUP,
        key="header:x-goog-channel-id",
        rate=settings.GOOGLE_WEBHOOK_RATE,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return False
    # Whole seconds to the window's end, less one so it never outlives the window (-1: the shared
    # cache failed; ask it again next time).
    if usage["time_left"] > 1:
        local.set(spent_key, True, timeout=usage["time_left"] - 1)
    return True


@csrf_exempt
@require_POST
def notification_view(request: HttpRequest) -> HttpResponse:
    if _over_channel_budget(request):
        return HttpResponse(status=200)
    outcome = channels.receive_notification(
        channel_id=request.headers.get("X-Goog-Channel-ID", ""),
        token=request.headers.get("X-Goog-Channel-Token", ""),
        resource_state=request.headers.get("X-Goog-Resource-State", ""),
        resource_id=request.headers.get("X-Goog-Resource-ID", ""),
        message_number=request.headers.get("X-Goog-Message-Number", ""),
    )
    logger.debug("Google notification: %s", outcome)
    return HttpResponse(status=200)
