"""Prometheus metrics: requests per view, Google calls per outcome, and the product's sync state.

Library: prometheus-client (see docs/OPERATIONS.md for why). Counters and histograms live in
the process that counts; with gunicorn's several processes set ``PROMETHEUS_MULTIPROC_DIR`` and
the scrape merges every process's files. The product's gauges are not counted anywhere: the
``ProductCollector`` computes them at scrape time from a few aggregate queries
(``integrations.overview``), so every web process answers the same.

Extension point: a feature with numbers of its own (online bookings, unread inbox items: not
built yet) calls ``register_product_metrics(source)`` in its ``AppConfig.ready``; ``source`` is
called at each scrape with the current time and yields metric families (one aggregate each).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

# --- Requests per view ----------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "copilot_http_requests", "HTTP requests by view, method and status.", ["view", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "copilot_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    """Counts and times every request under its URL name (``unresolved`` for 404s: bounded labels)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unresolved"  # the URL name, else the view's dotted path
        method = request.method if request.method in METHODS else "other"
        HTTP_LATENCY.labels(view, method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(view, method, str(response.status_code)).inc()
        return response


# --- Google calls (counted by integrations/google/client.py's observer hook) ------------------------

GOOGLE_REQUESTS = Counter("copilot_google_requests", "Requests to Google (batch parts counted singly).")
GOOGLE_ERRORS = Counter(
    "copilot_google_errors",
    "Failed requests to Google by class: rate_limited, retryable, needs_reconnect, missing_permission, "
    "or the kind of refusal (not_found, duplicate, precondition_failed, ...).",
    ["error_class"],
)
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def error_class(error) -> str:
    """The label of a ``client.GoogleError``: rate limits apart from other retryable failures."""
    from integrations.google import client

    if isinstance(error, client.Retryable) and (error.status == 429 or error.reason in RATE_LIMIT_REASONS):
        return "rate_limited"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def observe_google_request(error) -> None:
    GOOGLE_REQUESTS.inc()
    if error is not None:
        GOOGLE_ERRORS.labels(error_class(error)).inc()


# --- The product's state, computed at scrape time ---------------------------------------------------

PULL_LAG_BUCKETS = (60, 300, 600, 900, 1800, 3600, 6 * 3600, 24 * 3600)
ProductSource = Callable[[datetime], Iterable[Metric]]
_sources: list[ProductSource] = []


def register_product_metrics(source: ProductSource) -> None:
    if source not in _sources:
        _sources.append(source)


def sync_metrics(now: datetime) -> Iterable[Metric]:
    from integrations.overview import sync_overview

    overview = sync_overview(now)
    connections = GaugeMetricFamily(
        "copilot_google_connections", "Google connections by state.", labels=["state"]
    )
    for state, count in overview.connections.items():
        connections.add_metric([state], count)
    yield connections
    waiting = GaugeMetricFamily(
        "copilot_outbox_waiting_changes",
        "Appointment changes waiting to be pushed to Google: due (their connection can sync) or held "
        "(until a person reconnects or grants a permission).",
        labels=["reason"],
    )
    oldest = GaugeMetricFamily(
        "copilot_outbox_oldest_waiting_seconds",
        "Age of the oldest change waiting to be pushed (0 when none waits), by reason.",
        labels=["reason"],
    )
    for reason, backlog in (("due", overview.due), ("held", overview.held)):
        waiting.add_metric([reason], backlog.count)
        oldest.add_metric([reason], backlog.oldest_seconds(now))
    yield waiting
    yield oldest
    buckets = [
        (floatToGoString(bound), sum(1 for lag in overview.pull_lags if lag <= bound))
        for bound in PULL_LAG_BUCKETS
    ]
    buckets.append(("+Inf", len(overview.pull_lags) + overview.never_pulled))
    yield HistogramMetricFamily(
        "copilot_pull_lag_seconds",
        "Per calendar of an active connection: seconds since its last successful pull "
        "(never-pulled calendars count in +Inf only).",
        buckets=buckets,
        sum_value=sum(overview.pull_lags),
    )
    yield GaugeMetricFamily(
        "copilot_pull_never_pulled_calendars",
        "Calendars of active connections that were never pulled.",
        value=overview.never_pulled,
    )
    yield GaugeMetricFamily(
        "copilot_push_channels_expiring_24h",
        "Open Google push channels of active connections expiring within 24 hours (their polls "
        "should have replaced them).",
        value=overview.channels_expiring,
    )


def worker_metrics(now: datetime) -> Iterable[Metric]:
    """What /readyz judges, as numbers: the heartbeat's age and the oldest queued task's age."""
    from .health import last_heartbeat, oldest_queued_at

    beat = last_heartbeat()
    yield GaugeMetricFamily(
        "copilot_worker_heartbeat_age_seconds",
        "Seconds since a django-q2 worker last ran the heartbeat task (scheduled every minute); +Inf: never.",
        value=(now - beat).total_seconds() if beat else float("inf"),
    )
    queued = oldest_queued_at()
    yield GaugeMetricFamily(
        "copilot_queue_oldest_task_age_seconds",
        "Seconds the oldest task has waited for a worker (0 when the queue is empty).",
        value=max((now - queued).total_seconds(), 0.0) if queued else 0.0,
    )


class ProductCollector:
    def collect(self) -> Iterable[Metric]:
        now = timezone.now()
        for source in [sync_metrics, worker_metrics, *_sources]:
            yield from source(now)


_product_registry = CollectorRegistry(auto_describe=False)
_product_registry.register(ProductCollector())


def render() -> tuple[bytes, str]:
    """The whole exposition: this process's (or every process's) counters, then the product gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_product_registry), CONTENT_TYPE_LATEST
