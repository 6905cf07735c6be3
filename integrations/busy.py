"""Busy time from Google calendars, fed to the appointment book's busy-time interface."""

from __future__ import annotations

from calendars.busy import BusyInterval


class GoogleBusySource:
    def intervals(self, *, member, start, end) -> list[BusyInterval]:
        return []

    def ensure_fresh(self, *, member, start, end):
        return None
