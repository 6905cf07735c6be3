"""Google's per-minute request quotas, enforced only when switched on.

Google allows about 600 Calendar API requests per minute per user and 10,000 per minute per
project (an OAuth client here), counted over a sliding minute, each batch part as one
request. Past the user's limit it answers `403 userRateLimitExceeded`, past the project's
`403 rateLimitExceeded` (domain `usageLimits`; `status=429` answers `429 rateLimitExceeded`
instead, which Google also uses). Refused requests are not counted, so a client that backs
off gets through once the minute has moved on. Off by default: tests and benchmarks that
do not ask for quotas never see them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

WINDOW_SECONDS = 60.0


@dataclass
class QuotaPlan:
    enabled: bool = False
    user_per_minute: int = 600
    project_per_minute: int = 10_000
    status: int = 403

    @classmethod
    def from_json(cls, body: dict[str, Any], base: QuotaPlan | None = None) -> QuotaPlan:
        """A plan from a control-surface body over `base`; ValueError with a readable message."""
        merged = (base or cls()).to_json() | {k: v for k, v in body.items() if k in cls().to_json()}
        plan = cls(
            enabled=bool(merged["enabled"]),
            user_per_minute=int(merged["user_per_minute"]),
            project_per_minute=int(merged["project_per_minute"]),
            status=int(merged["status"]),
        )
        if plan.user_per_minute < 1 or plan.project_per_minute < 1:
            raise ValueError("user_per_minute and project_per_minute must be at least 1")
        if plan.status not in (403, 429):
            raise ValueError("status must be 403 or 429")
        return plan

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "user_per_minute": self.user_per_minute,
            "project_per_minute": self.project_per_minute,
            "status": self.status,
        }


class Quotas:
    """Sliding-minute request counts per user and per project, and the plan they answer to."""

    def __init__(self, plan: QuotaPlan | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan or QuotaPlan()
        self.clock = clock
        self._lock = threading.Lock()
        self._users: dict[str, deque[float]] = {}
        self._projects: dict[str, deque[float]] = {}
        self.refused = {"user": 0, "project": 0}

    def configure(self, plan: QuotaPlan) -> None:
        with self._lock:
            self.plan = plan
            self._users.clear()
            self._projects.clear()
            self.refused = {"user": 0, "project": 0}

    def charge(self, *, user: str, project: str) -> ApiError | None:
        """Count one request by `user` of `project`; the error to answer instead when over quota."""
        plan = self.plan
        if not plan.enabled:
            return None
        with self._lock:
            now = self.clock()
            mine = _recent(self._users.setdefault(user, deque()), now)
            ours = _recent(self._projects.setdefault(project, deque()), now)
            if len(mine) >= plan.user_per_minute:
                self.refused["user"] += 1
                return _refusal(plan.status, "userRateLimitExceeded", "User Rate Limit Exceeded")
            if len(ours) >= plan.project_per_minute:
                self.refused["project"] += 1
                return _refusal(plan.status, "rateLimitExceeded", "Rate Limit Exceeded")
            mine.append(now)
            ours.append(now)
            return None

    def to_json(self) -> dict[str, Any]:
        return self.plan.to_json() | {"refused": dict(self.refused)}


def _recent(stamps: deque[float], now: float) -> deque[float]:
    while stamps and stamps[0] <= now - WINDOW_SECONDS:
        stamps.popleft()
    return stamps


def _refusal(status: int, reason: str, message: str) -> ApiError:
    if status == 429:
        return ApiError(429, "rateLimitExceeded", message, domain="usageLimits")
    return ApiError(403, reason, message, domain="usageLimits")
