"""The control surface under `/_emulator/`: JSON, no auth, never fault-injected.

Tests, benchmarks and `make run` use it to create accounts and calendars,
mint tokens without a browser, revoke access, inject faults, invalidate
sync tokens and read counters. See README.md for the full contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import event_ops, events, listing, oauth, timeutil, tokens
from . import scopes as sc
from .errors import bad_request, not_found
from .faults import FaultPlan
from .quotas import QuotaPlan
from .store import ROLES
from .wire import Request, Response, json_response

if TYPE_CHECKING:
    from .app import Emulator

DEFAULT_TOKEN_SCOPES = ["openid", "email", "profile", sc.CALENDAR]


def _account_json(app: Emulator, account: dict[str, Any]) -> dict[str, Any]:
    calendar = app.store.calendar(account["email"]) or {}
    return account | {"primaryCalendarId": account["email"], "timeZone": calendar.get("timeZone", "UTC")}


def reset(app: Emulator, req: Request) -> Response:
    """Forget accounts, calendars, events, tokens, channels, faults and stats (not clients or key)."""
    app.reset()
    return json_response({"reset": True})


def create_user(app: Emulator, req: Request) -> Response:
    body = req.json()
    email = str(body.get("email") or "").strip().lower()
    if "@" not in email:
        raise bad_request('email is required, e.g. {"email": "ana@example.test", "name": "Ana"}')
    time_zone = body.get("timeZone") or "UTC"
    if not timeutil.is_zone(time_zone):
        raise bad_request(f"Unknown time zone: {time_zone}")
    account = app.store.add_account(email, body.get("name"), time_zone)
    return json_response(_account_json(app, account), 201)


def list_users(app: Emulator, req: Request) -> Response:
    accounts = sorted(app.store.data["accounts"].values(), key=lambda a: a["email"])
    return json_response({"items": [_account_json(app, a) for a in accounts]})


def create_calendar(app: Emulator, req: Request) -> Response:
    body = req.json()
    owner = str(body.get("owner") or "").lower()
    if not app.store.account(owner):
        raise bad_request(f"owner {owner!r} is not an emulator account; create it with POST /_emulator/users")
    time_zone = body.get("timeZone") or "UTC"
    if not timeutil.is_zone(time_zone):
        raise bad_request(f"Unknown time zone: {time_zone}")
    acl = {}
    for rule in body.get("acl") or []:
        if rule.get("role") not in ROLES or not rule.get("email"):
            raise bad_request(f"each acl rule needs an email and a role in {list(ROLES)}")
        acl[rule["email"].lower()] = rule["role"]
    calendar = app.store.add_calendar(
        owner=owner,
        summary=body.get("summary") or "Untitled",
        time_zone=time_zone,
        acl=acl,
        calendar_id=body.get("id"),
    )
    return json_response(_calendar_json(calendar), 201)


def _calendar_json(calendar: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "summary", "timeZone", "owner", "acl", "backgroundColor")
    return {k: calendar[k] for k in keys}


def _client_and_scopes(app: Emulator, body: dict[str, Any]) -> tuple[str, list[str]]:
    """The OAuth client and scopes a minting request names (defaults: ours, sign-in + calendar)."""
    client_id = body.get("client_id") or oauth.DEFAULT_CLIENT_ID
    if client_id not in app.store.clients:
        raise bad_request(f"unknown client {client_id!r}")
    try:
        return client_id, sc.ordered(sc.normalize(body.get("scopes") or DEFAULT_TOKEN_SCOPES))
    except sc.UnknownScope as exc:
        raise bad_request(f"unknown scope {exc}") from exc


def mint_tokens(app: Emulator, req: Request) -> Response:
    """A token response as `/token` gives it (offline: with refresh token), skipping the browser."""
    body = req.json()
    email = str(body.get("email") or "").lower()
    if not app.store.account(email):
        raise bad_request(f"unknown account {email!r}")
    client_id, scopes = _client_and_scopes(app, body)
    minted = tokens.issue_tokens(
        app, email=email, client_id=client_id, scopes=scopes, offline=body.get("offline", True)
    )
    return json_response(minted)


BULK_MAX = 5000


def bulk_seed(app: Emulator, req: Request) -> Response:
    """Many people at once, each as if they had consented and fully synced their primary calendar.

    Body `{"users": [{"email", "name"?, "timeZone"?, "watch"?}], "client_id"?, "scopes"?,
    "offline"?}` (at most 5,000 users). Each user is what `POST /_emulator/users` makes, with the
    tokens `POST /_emulator/tokens` mints (no id_token: the account's `sub` is in the answer
    instead) and the `nextSyncToken` a full events.list of the primary calendar would end with
    now; with `watch` (an events.watch body) also a channel on that calendar, as events.watch
    opens it (its `sync` message included), answered as `channel`. Validated before anything
    is created, except a channel's own body (a bad one stops the seeding where it is).
    """
    body = req.json()
    users = body.get("users")
    if not isinstance(users, list) or not users or len(users) > BULK_MAX:
        raise bad_request(f'users must be a list of 1 to {BULK_MAX} {{"email", "name"?, "timeZone"?}}')
    client_id, scopes = _client_and_scopes(app, body)
    wanted = []
    for user in users:
        if not isinstance(user, dict) or "@" not in str(user.get("email") or ""):
            raise bad_request("each user needs an email")
        email = str(user["email"]).strip().lower()
        time_zone = user.get("timeZone") or "UTC"
        if not timeutil.is_zone(time_zone):
            raise bad_request(f"Unknown time zone: {time_zone}")
        watch = user.get("watch")
        if watch is not None and not isinstance(watch, dict):
            raise bad_request("watch must be an events.watch body")
        wanted.append((email, user.get("name"), time_zone, watch))
    items = []
    for email, name, time_zone, watch in wanted:
        account = app.store.add_account(email, name, time_zone)
        minted = tokens.issue_tokens(
            app,
            email=email,
            client_id=client_id,
            scopes=scopes,
            offline=body.get("offline", True),
            with_id_token=False,
            prune=False,
        )
        calendar = app.store.calendar(email)
        item = minted | {
            "email": email,
            "sub": account["sub"],
            "primaryCalendarId": email,
            "nextSyncToken": listing.sync_token(app.store, calendar),
        }
        if watch:
            item["channel"] = app.channels.watch(
                calendar_id=email, url_calendar_id=email, email=email, body=watch, base_url=app.base_url
            )
        items.append(item)
    tokens.prune_expired(app.store)
    return json_response({"items": items}, 201)


def revoke(app: Emulator, req: Request) -> Response:
    email = str(req.json().get("email") or "").lower()
    return json_response({"revoked_grants": tokens.revoke_account(app, email)})


def set_faults(app: Emulator, req: Request) -> Response:
    try:
        plan = FaultPlan.from_json(req.json())
    except (ValueError, TypeError) as exc:
        raise bad_request(str(exc)) from exc
    app.faults.configure(plan)
    return json_response(plan.to_json())


def clear_faults(app: Emulator, req: Request) -> Response:
    app.faults.configure(None)
    return json_response({"faults": None})


def get_faults(app: Emulator, req: Request) -> Response:
    plan = app.faults.plan
    return json_response({"faults": plan.to_json() if plan else None, "injected": app.faults.injected})


def expire_sync_tokens(app: Emulator, req: Request) -> Response:
    app.store.expire_sync_tokens()
    return json_response({"expired": True})


def get_stats(app: Emulator, req: Request) -> Response:
    return json_response(app.stats.to_json())


def stats_per_second(app: Emulator, req: Request) -> Response:
    """`{"seconds": {"<unix second>": n}}`: requests counted in `total`, by the second they came."""
    return json_response({"seconds": app.stats.per_second()})


def reset_stats(app: Emulator, req: Request) -> Response:
    app.stats.reset()
    return json_response(app.stats.to_json())


def state(app: Emulator, req: Request) -> Response:
    snapshot = app.store.snapshot()
    snapshot.pop("signing_key", None)
    return json_response(snapshot)


def register_client(app: Emulator, req: Request) -> Response:
    return json_response(oauth.register_client(app, req.json()), 201)


def list_clients(app: Emulator, req: Request) -> Response:
    return json_response({"items": list(app.store.clients.values())})


def channels(app: Emulator, req: Request) -> Response:
    """Every channel and the recent delivery attempts (newest last)."""
    return json_response(
        {"items": list(app.store.data["channels"].values()), "deliveries": list(app.channels.log)}
    )


def config(app: Emulator, req: Request) -> Response:
    """Change run-time knobs: `access_token_lifetime`, `push_retry_delay`, `push_attempts`.

    Reset restores the values the emulator was started with.
    """
    body = req.json()
    try:
        app.configure(**{k: body[k] for k in app.settings() if k in body})
    except (TypeError, ValueError) as exc:
        raise bad_request(f"invalid config: {exc}") from exc
    return json_response(app.settings())


def get_quotas(app: Emulator, req: Request) -> Response:
    return json_response(app.quotas.to_json())


def set_quotas(app: Emulator, req: Request) -> Response:
    """Switch quotas on or off and set the limits: `{"enabled", "user_per_minute", ...}`.

    Counts start again; reset restores the plan the emulator was started with.
    """
    try:
        plan = QuotaPlan.from_json(req.json(), base=app.quotas.plan)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"invalid quotas: {exc}") from exc
    app.quotas.configure(plan)
    return json_response(app.quotas.to_json())


# -- acting as a person, without a token -----------------------------------------------
def _owned_calendar(app: Emulator, calendar_id: str) -> dict[str, Any]:
    calendar = app.store.calendar(calendar_id)
    if calendar is None:
        raise not_found()
    return calendar


def _found(app: Emulator, calendar: dict[str, Any], event_id: str) -> dict[str, Any]:
    event = event_ops.find(app.store, calendar, event_id)
    if event is None:
        raise not_found()
    return event


def insert_event(app: Emulator, req: Request, calendarId: str) -> Response:
    """Insert an event as the calendar's owner (a person editing in Google)."""
    calendar = _owned_calendar(app, calendarId)
    event = event_ops.insert(app.store, calendar, req.json(), calendar["owner"])
    return json_response(events.render(event, calendar, app.base_url), 201)


def patch_event(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    calendar = _owned_calendar(app, calendarId)
    current = _found(app, calendar, eventId)
    event = event_ops.patch(app.store, calendar, current, req.json(), calendar["owner"])
    return json_response(events.render(event, calendar, app.base_url))


def delete_event(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    calendar = _owned_calendar(app, calendarId)
    event_ops.delete(app.store, calendar, _found(app, calendar, eventId))
    return json_response({"deleted": eventId})


ROUTES = [
    ("POST", "/_emulator/reset", reset),
    ("POST", "/_emulator/users", create_user),
    ("GET", "/_emulator/users", list_users),
    ("POST", "/_emulator/calendars", create_calendar),
    ("POST", "/_emulator/calendars/{calendarId}/events", insert_event),
    ("PATCH", "/_emulator/calendars/{calendarId}/events/{eventId}", patch_event),
    ("DELETE", "/_emulator/calendars/{calendarId}/events/{eventId}", delete_event),
    ("POST", "/_emulator/tokens", mint_tokens),
    ("POST", "/_emulator/bulk", bulk_seed),
    ("POST", "/_emulator/revoke", revoke),
    ("POST", "/_emulator/faults", set_faults),
    ("DELETE", "/_emulator/faults", clear_faults),
    ("GET", "/_emulator/faults", get_faults),
    ("POST", "/_emulator/expire-sync-tokens", expire_sync_tokens),
    ("GET", "/_emulator/stats", get_stats),
    ("GET", "/_emulator/stats/seconds", stats_per_second),
    ("POST", "/_emulator/stats/reset", reset_stats),
    ("GET", "/_emulator/state", state),
    ("POST", "/_emulator/clients", register_client),
    ("GET", "/_emulator/clients", list_clients),
    ("GET", "/_emulator/channels", channels),
    ("GET", "/_emulator/config", lambda app, req: json_response(app.settings())),
    ("GET", "/_emulator/quotas", get_quotas),
    ("POST", "/_emulator/quotas", set_quotas),
    ("POST", "/_emulator/config", config),
]
