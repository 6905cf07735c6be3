"""Injected failures and latency, deterministic under a seed.

A fault plan applies to requests whose path matches `paths` (default: the
Calendar API). Each matching request (each batch part, separately) fails
with probability `rate`, drawing its status from `statuses` with a seeded
RNG, so the same seed and request order give the same failures. Latency is
added once per matching HTTP request (once for a whole batch). Control and
HTML pages are never touched.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

DEFAULT_PATHS = r"^/calendar/v3/"
SUPPORTED = (500, 503, 429, 403)


def error_for(status: int) -> ApiError:
    """Google's real body for an injected status."""
    if status == 503:
        return ApiError(503, "backendError", "The service is currently unavailable.")
    if status == 429:
        return ApiError(429, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits")
    if status == 403:
        return ApiError(403, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits")
    return ApiError(500, "backendError", "Backend Error")


@dataclass
class FaultPlan:
    rate: float = 0.0
    statuses: list[int] = field(default_factory=lambda: [500, 503])
    latency_ms: float = 0.0
    paths: str = DEFAULT_PATHS
    seed: int | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> FaultPlan:
        """Validate a control-surface body; raise ValueError with a readable message."""
        plan = cls(
            rate=float(body.get("rate", 0.0)),
            statuses=[int(s) for s in body.get("statuses", [500, 503])],
            latency_ms=float(body.get("latency_ms", 0.0)),
            paths=str(body.get("paths") or DEFAULT_PATHS),
            seed=body.get("seed"),
        )
        if not 0.0 <= plan.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if plan.rate and (not plan.statuses or any(s not in SUPPORTED for s in plan.statuses)):
            raise ValueError(f"statuses must be a non-empty subset of {list(SUPPORTED)}")
        if plan.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        try:
            re.compile(plan.paths)
        except re.error as exc:
            raise ValueError(f"paths is not a valid regex: {exc}") from exc
        return plan

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "statuses": self.statuses,
            "latency_ms": self.latency_ms,
            "paths": self.paths,
            "seed": self.seed,
        }


class Faults:
    """The active fault plan (or none) and its RNG."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.plan: FaultPlan | None = None
        self._rng = random.Random()
        self._pattern: re.Pattern[str] | None = None
        self.injected = 0

    def configure(self, plan: FaultPlan | None) -> None:
        with self._lock:
            self.plan = plan
            self._pattern = re.compile(plan.paths) if plan else None
            self._rng = random.Random(plan.seed if plan else None)
            self.injected = 0

    def applies(self, path: str) -> bool:
        return self._pattern is not None and bool(self._pattern.search(path))

    def latency(self, path: str) -> float:
        """Seconds to sleep before serving `path`."""
        plan = self.plan
        return plan.latency_ms / 1000.0 if plan and self.applies(path) else 0.0

    def failure(self, path: str) -> ApiError | None:
        """The injected error for this request, or None to serve it normally."""
        with self._lock:
            plan = self.plan
            if not plan or not plan.rate or not self.applies(path):
                return None
            if self._rng.random() >= plan.rate:
                return None
            self.injected += 1
            return error_for(self._rng.choice(plan.statuses))
