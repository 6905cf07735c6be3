"""The emulator's single in-memory store, guarded by one lock, optionally on disk.

Everything Google would remember lives in `Store.data`, a JSON-able dict:
accounts, calendars (with ACLs and a per-calendar change sequence), events
(tombstones included), OAuth clients, codes, grants, tokens and push channels.
Request handlers run while holding `Store.lock`; event writes go through
`write_event`, which stamps etag, `updated` and the sync sequence and tells
listeners (push delivery) that the calendar changed.

With a state file the store loads it at start and a saver thread writes it
(atomically) shortly after every change, and once more at stop.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import timeutil
from .keys import SigningKey

BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
ROLES = ("freeBusyReader", "reader", "writer", "owner")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
CALENDAR_COLORS = ("#9fe1e7", "#7bd148", "#fad165", "#ff887c", "#a4bdfc", "#b99aff")

Listener = Callable[[str], None]


def random_id(length: int = 26) -> str:
    """A random base32hex identifier, the alphabet Google uses for event ids."""
    return "".join(secrets.choice(BASE32HEX) for _ in range(length))


def account_sub(email: str) -> str:
    """A stable 21-digit numeric subject for an account, like Google's."""
    digits = str(int(hashlib.sha256(email.lower().encode()).hexdigest(), 16))
    return "1" + digits[:20]


def role_at_least(role: str | None, minimum: str) -> bool:
    return ROLE_RANK.get(role or "", 0) >= ROLE_RANK[minimum]


def _empty_data() -> dict[str, Any]:
    return {
        "accounts": {},
        "calendars": {},
        "events": {},
        "codes": {},
        "grants": {},
        "access_tokens": {},
        "refresh_tokens": {},
        "channels": {},
        "sync_epoch": secrets.token_hex(4),
    }


class Store:
    """Thread-safe state of the emulator. Hold `lock` around reads that must agree."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None, save_interval: float = 0.2) -> None:
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.data: dict[str, Any] = _empty_data()
        self.clients: dict[str, dict[str, Any]] = {}
        self.signing_key: SigningKey | None = None
        self.listeners: list[Listener] = []
        self._etag_counter = 0
        self._dirty = False
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None
        self._save_interval = save_interval
        if self.state_file and self.state_file.exists():
            self._load()
        if self.signing_key is None:
            self.signing_key = SigningKey()
            self.mark_dirty()

    # -- persistence -------------------------------------------------------
    def _load(self) -> None:
        assert self.state_file is not None
        saved = json.loads(self.state_file.read_text())
        self.data.update(saved.get("data", {}))
        self.clients.update(saved.get("clients", {}))
        if saved.get("signing_key"):
            self.signing_key = SigningKey(saved["signing_key"])

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of everything, as the state file holds it."""
        with self.lock:
            return copy.deepcopy(
                {"data": self.data, "clients": self.clients, "signing_key": self.signing_key.private_pem()}
            )

    def save(self) -> None:
        """Write the state file now (atomically); no-op without one."""
        if not self.state_file:
            return
        with self.lock:
            payload = json.dumps(self.snapshot())
            self._dirty = False
        tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        tmp.write_text(payload)
        os.replace(tmp, self.state_file)

    def mark_dirty(self) -> None:
        self._dirty = True

    def start_saver(self) -> None:
        """Start the background thread that flushes changes to the state file."""
        if not self.state_file or self._saver:
            return
        self._saver = threading.Thread(target=self._save_loop, name="emulator-store-saver", daemon=True)
        self._saver.start()

    def _save_loop(self) -> None:
        while not self._stop.wait(self._save_interval):
            if self._dirty:
                self.save()

    def close(self) -> None:
        """Stop the saver and flush a last time."""
        self._stop.set()
        if self._saver:
            self._saver.join(timeout=5)
        if self.state_file:
            self.save()

    def reset(self) -> None:
        """Forget everything except registered clients and the signing key."""
        with self.lock:
            self.data = _empty_data()
            self.mark_dirty()

    # -- accounts and calendars -------------------------------------------
    def account(self, email: str) -> dict[str, Any] | None:
        return self.data["accounts"].get(email.lower())

    def add_account(self, email: str, name: str | None = None, time_zone: str = "UTC") -> dict[str, Any]:
        """Create (or update the name of) an account and its primary calendar."""
        email = email.lower()
        with self.lock:
            name = name or email.split("@")[0].replace(".", " ").title()
            given, _, family = name.partition(" ")
            account = self.data["accounts"].setdefault(email, {"email": email, "sub": account_sub(email)})
            account.update({"name": name, "given_name": given, "family_name": family})
            account.setdefault("picture", f"https://lh3.googleusercontent.com/a/{account['sub']}")
            if email not in self.data["calendars"]:
                self._insert_calendar(email, owner=email, summary=email, time_zone=time_zone, acl={})
            self.mark_dirty()
            return account

    def add_calendar(
        self,
        *,
        owner: str,
        summary: str,
        time_zone: str = "UTC",
        acl: dict[str, str] | None = None,
        calendar_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a secondary calendar owned by `owner`, shared per `acl` (email → role)."""
        with self.lock:
            calendar_id = calendar_id or f"c_{random_id(26)}@group.calendar.google.com"
            calendar = self._insert_calendar(
                calendar_id, owner=owner.lower(), summary=summary, time_zone=time_zone, acl=acl or {}
            )
            self.mark_dirty()
            return calendar

    def _insert_calendar(
        self, calendar_id: str, *, owner: str, summary: str, time_zone: str, acl: dict[str, str]
    ) -> dict[str, Any]:
        color = CALENDAR_COLORS[len(self.data["calendars"]) % len(CALENDAR_COLORS)]
        calendar = {
            "id": calendar_id,
            "summary": summary,
            "description": "",
            "timeZone": time_zone,
            "owner": owner,
            "acl": {email.lower(): role for email, role in acl.items()},
            "backgroundColor": color,
            "etag": self.new_etag(),
            "seq": 0,
        }
        self.data["calendars"][calendar_id] = calendar
        self.data["events"].setdefault(calendar_id, {})
        return calendar

    def calendar(self, calendar_id: str) -> dict[str, Any] | None:
        return self.data["calendars"].get(calendar_id) or self.data["calendars"].get(calendar_id.lower())

    def role(self, calendar: dict[str, Any], email: str) -> str | None:
        """The access role `email` has on `calendar`, or None."""
        if calendar["owner"] == email.lower():
            return "owner"
        return calendar["acl"].get(email.lower())

    def calendars_for(self, email: str) -> Iterator[tuple[dict[str, Any], str]]:
        """Every calendar `email` can see, with its role, own primary first."""
        for calendar in sorted(self.data["calendars"].values(), key=lambda c: (c["id"] != email, c["id"])):
            role = self.role(calendar, email)
            if role:
                yield calendar, role

    # -- events ------------------------------------------------------------
    def events(self, calendar_id: str) -> dict[str, dict[str, Any]]:
        return self.data["events"].setdefault(calendar_id, {})

    def new_etag(self) -> str:
        self._etag_counter += 1
        return f'"{int(time.time() * 1000) * 1000 + self._etag_counter % 1000}"'

    def write_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Store `event`, stamping etag, `updated` and the calendar's next sync sequence.

        Every event change in the emulator (API, HTML page, move) passes here,
        so sync tokens and push notifications see all of them.
        """
        with self.lock:
            calendar = self.data["calendars"][calendar_id]
            calendar["seq"] += 1
            event["_seq"] = calendar["seq"]
            event["etag"] = self.new_etag()
            event["updated"] = timeutil.rfc3339_millis(timeutil.now())
            calendar["updated"] = event["updated"]
            self.events(calendar_id)[event["id"]] = event
            self.mark_dirty()
            for listener in list(self.listeners):
                listener(calendar_id)
            return event

    def expire_sync_tokens(self) -> None:
        with self.lock:
            self.data["sync_epoch"] = secrets.token_hex(4)
            self.mark_dirty()
