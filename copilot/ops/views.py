"""Endpoints for machines: ``/healthz`` (alive), ``/readyz`` (can serve), ``/metrics`` (Prometheus).

No session, no login, no data: health answers are names and ages, metrics need a bearer token.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health, metrics

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches nothing else (a load balancer restarts it when this fails)."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 (with what failed) otherwise."""
    checks = health.readiness()
    ready = all(check.ok for check in checks)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        # One warning naming what failed, instead of Django's ERROR (which would also page Sentry).
        response._has_been_logged = True
        failed = ", ".join(f"{check.name} ({check.detail})" for check in checks if not check.ok)
        logger.warning("Not ready: %s", failed)
    return response


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@login_not_required
@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition behind ``Authorization: Bearer $METRICS_TOKEN``; 404 when no token is set."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off (no METRICS_TOKEN).")
    if not _bearer_matches(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
