"""Sorted listings kept between pages, so paging through a calendar costs O(page) per page.

A list's first page filters and sorts every matching event once; the next pages of the
same query find that sorted result here and bisect to their page token's key instead of
sorting the calendar again. An entry is keyed by the calendar's change sequence and sync
epoch, so any write (or a reset) makes the next page sort afresh over current state, with
exactly the semantics of an uncached page.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]


@dataclass(frozen=True)
class SortedListing:
    keys: list[Any]
    events: list[Event]

    def page_after(self, after: Any, size: int) -> tuple[list[tuple[Any, Event]], bool]:
        """Up to `size` (key, event) pairs with keys above `after`, and whether more follow."""
        start = 0 if after is None else bisect.bisect_right(self.keys, after)
        stop = start + size
        return list(zip(self.keys[start:stop], self.events[start:stop], strict=True)), stop < len(self.keys)


class ListingCache:
    """The last few sorted listings, least recently used dropped first."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Any, ...], SortedListing] = OrderedDict()
        self._lock = threading.Lock()
        self.sorts = 0  # how many listings were sorted from scratch (tests read it)

    def get(self, key: tuple[Any, ...], build: Callable[[], list[tuple[Any, Event]]]) -> SortedListing:
        """The sorted listing for `key`, from the cache or from `build()` (unsorted pairs)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        pairs = sorted(build(), key=lambda pair: pair[0])
        listing = SortedListing([k for k, _ in pairs], [e for _, e in pairs])
        with self._lock:
            self.sorts += 1
            self._entries[key] = listing
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return listing

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.sorts = 0
