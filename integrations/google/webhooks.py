"""Google push notifications: the one CSRF-exempt, login-free view.

Google posts an empty body with ``X-Goog-*`` headers. Every answer is 200 at once, whatever the
message: a forged or stale message learns nothing and changes nothing, and Google stops retrying.
The work (a debounced incremental pull) happens in a task; see ``channels.receive_notification``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import channels

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def notification_view(request: HttpRequest) -> HttpResponse:
    outcome = channels.receive_notification(
        channel_id=request.headers.get("X-Goog-Channel-ID", ""),
        token=request.headers.get("X-Goog-Channel-Token", ""),
        resource_state=request.headers.get("X-Goog-Resource-State", ""),
        resource_id=request.headers.get("X-Goog-Resource-ID", ""),
        message_number=request.headers.get("X-Goog-Message-Number", ""),
    )
    logger.debug("Google notification: %s", outcome)
    return HttpResponse(status=200)
