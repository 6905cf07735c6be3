"""Test helpers that import nothing of the product, so the emulator's own tests can use them too."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll ``predicate`` until it returns something truthy and return that; fail after ``timeout`` s.

    A condition with a deadline, never a sleep for timing: on a loaded machine it simply waits longer.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)
