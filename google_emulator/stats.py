"""Request counters by route template and status, for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

SECONDS_KEPT = 3600


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self._parts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self._total = 0
            self._send_updates: dict[str, int] = defaultdict(int)
            self._seconds: dict[int, int] = defaultdict(int)

    def count(self, route: str, status: int, *, batch_part: bool = False) -> None:
        with self._lock:
            table = self._parts if batch_part else self._requests
            table[route][str(status)] += 1
            if not batch_part:
                self._total += 1
                self._seconds[int(time.time())] += 1
                if len(self._seconds) > SECONDS_KEPT:
                    del self._seconds[min(self._seconds)]

    def note_send_updates(self, value: str) -> None:
        with self._lock:
            self._send_updates[value] += 1

    def to_json(self) -> dict[str, Any]:
        """`{"requests": {route: {status: n}}, "batch_parts": {...}, "total": n, "send_updates": {...}}`."""
        with self._lock:
            return {
                "requests": {k: dict(v) for k, v in self._requests.items()},
                "batch_parts": {k: dict(v) for k, v in self._parts.items()},
                "total": self._total,
                "send_updates": dict(self._send_updates),
            }

    def per_second(self) -> dict[str, int]:
        """HTTP requests counted per wall-clock second (Unix time), the last hour that had any."""
        with self._lock:
            return {str(second): n for second, n in sorted(self._seconds.items())}
