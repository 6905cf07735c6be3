"""The emulator application: routing, locking, faults and stats around the handlers.

`Emulator.handle` serves one HTTP request; batch parts come back through
`dispatch_part`, so they are routed, counted and fault-injected the same way.
Handlers run while holding the store lock; injected latency sleeps outside it.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import batch, calendar_api, control, oauth, pages, tokens
from .channels import ChannelHub
from .errors import ApiError
from .faults import Faults
from .listing_cache import ListingCache
from .quotas import QuotaPlan, Quotas
from .stats import Stats
from .store import Store
from .wire import Request, Response, error_response, html_response

log = logging.getLogger("google_emulator")

Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    area: str  # "api", "batch", "oauth", "control" or "page"
    pattern: re.Pattern[str]

    @classmethod
    def make(cls, method: str, template: str, handler: Handler, area: str) -> Route:
        regex = re.sub(
            r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
        )
        return cls(method, template, handler, area, re.compile(f"^{regex}$"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def _batch(app: Emulator, req: Request) -> Response:
    return app.serve_batch(req)


def _routes() -> list[Route]:
    table: list[tuple[str, str, Handler, str]] = []
    table += [(m, t, h, "api") for m, t, h in calendar_api.ROUTES]
    table += [("POST", "/batch/calendar/v3", _batch, "batch"), ("POST", "/batch", _batch, "batch")]
    table += [(m, t, h, "oauth") for m, t, h in OAUTH_ROUTES]
    table += [(m, t, h, "control") for m, t, h in control.ROUTES]
    table += [(m, t, h, "page") for m, t, h in pages.ROUTES]
    return [Route.make(*row) for row in table]


OAUTH_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/o/oauth2/v2/auth", oauth.authorize_page),
    ("GET", "/o/oauth2/auth", oauth.authorize_page),
    ("POST", "/o/oauth2/v2/auth", oauth.consent_submit),
    ("POST", "/o/oauth2/v2/auth/consent", oauth.consent_submit),
    ("POST", "/token", tokens.token_endpoint),
    ("POST", "/o/oauth2/token", tokens.token_endpoint),
    ("POST", "/revoke", tokens.revoke_endpoint),
    ("GET", "/revoke", tokens.revoke_endpoint),
    ("GET", "/oauth2/v1/certs", tokens.certs_v1),
    ("GET", "/oauth2/v3/certs", tokens.certs_v3),
    ("GET", "/oauth2/v2/userinfo", lambda app, req: tokens.userinfo(app, req, oidc=False)),
    ("GET", "/oauth2/v3/userinfo", lambda app, req: tokens.userinfo(app, req, oidc=True)),
    ("GET", "/v1/userinfo", lambda app, req: tokens.userinfo(app, req, oidc=True)),
    ("GET", "/.well-known/openid-configuration", tokens.openid_configuration),
]


class Emulator:
    """State plus behaviour of one fake Google; transport-free (see `server`)."""

    def __init__(
        self,
        store: Store,
        *,
        token_lifetime: int = 3600,
        push_retry_delay: float = 1.0,
        push_attempts: int = 5,
        quotas: QuotaPlan | None = None,
    ) -> None:
        self.store = store
        self.token_lifetime = token_lifetime
        self.base_url = "http://127.0.0.1"
        self.faults = Faults()
        self.stats = Stats()
        self.listings = ListingCache()
        self.quotas = Quotas(quotas)
        self._quota_plan = self.quotas.plan
        self.channels = ChannelHub(store, retry_delay=push_retry_delay, attempts=push_attempts)
        self.routes = _routes()
        self._defaults = self.settings()

    # -- run-time settings ----------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {
            "access_token_lifetime": self.token_lifetime,
            "push_retry_delay": self.channels.retry_delay,
            "push_attempts": self.channels.attempts,
        }

    def configure(
        self,
        access_token_lifetime: int | None = None,
        push_retry_delay: float | None = None,
        push_attempts: int | None = None,
    ) -> None:
        if access_token_lifetime is not None:
            self.token_lifetime = int(access_token_lifetime)
        if push_retry_delay is not None:
            self.channels.retry_delay = float(push_retry_delay)
        if push_attempts is not None:
            self.channels.attempts = int(push_attempts)

    def reset(self) -> None:
        """Forget accounts and data, faults, stats, quota counts and setting changes (keep clients, key)."""
        self.store.reset()
        self.channels.reset()
        self.faults.configure(None)
        self.stats.reset()
        self.listings.clear()
        self.quotas.configure(self._quota_plan)
        self.configure(**self._defaults)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        return None, {}

    # -- entry points ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        """Serve one top-level HTTP request."""
        route, params = self.match(req.method, req.path)
        if route is None:
            response = self._not_found(req)
            if not req.path.startswith("/_emulator/"):
                self.stats.count(f"{req.method} <unmatched>", response.status)
            return response
        if route.area == "batch":
            response = self.serve_batch(req)
        elif route.area == "api":
            time.sleep(self.faults.latency(req.path))
            response = self._api(route, params, req)
        else:
            response = self._call(route, params, req)
        if route.area != "control":
            self.stats.count(route.name, response.status)
        return response

    def dispatch_part(self, req: Request) -> Response:
        """Serve one batch part: only API routes; counted in `batch_parts`."""
        route, params = self.match(req.method, req.path)
        if route is None or route.area != "api":
            response = error_response(ApiError(404, "notFound", "Not Found"))
            self.stats.count(f"{req.method} <unmatched>", response.status, batch_part=True)
            return response
        response = self._api(route, params, req)
        self.stats.count(route.name, response.status, batch_part=True)
        return response

    # -- internals --------------------------------------------------------------------------------
    def _api(self, route: Route, params: dict[str, str], req: Request) -> Response:
        refused = self._over_quota(req)
        if refused is not None:
            return error_response(refused)
        injected = self.faults.failure(req.path)
        if injected is not None:
            return error_response(injected)
        return self._call(route, params, req)

    def _over_quota(self, req: Request) -> ApiError | None:
        """Google's rate-limit error when quotas are on and the caller is over one; else None."""
        if not self.quotas.plan.enabled:
            return None
        record = self.store.data["access_tokens"].get(tokens.bearer_token(req) or "")
        if record is None:
            return None  # the handler answers 401
        return self.quotas.charge(user=record["email"], project=record["client_id"])

    def serve_batch(self, req: Request) -> Response:
        """A batch request: latency once for the whole, then each part on its own."""
        try:
            parts = batch.parse(req)
        except ApiError as exc:
            return error_response(exc)
        time.sleep(max((self.faults.latency(p.request.path) for p in parts), default=0.0))
        return batch.respond(parts, self.dispatch_part)

    def _call(self, route: Route, params: dict[str, str], req: Request) -> Response:
        try:
            with self.store.lock:
                return route.handler(self, req, **params)
        except ApiError as exc:
            return error_response(exc)
        except Exception:  # an emulator bug must still answer like a server, and say so
            log.error("emulator handler failed: %s %s\n%s", req.method, req.path, traceback.format_exc())
            return error_response(ApiError(500, "backendError", "Backend Error (emulator bug; see its log)"))

    def _not_found(self, req: Request) -> Response:
        if req.path.startswith(("/calendar/", "/batch", "/_emulator/")):
            return error_response(ApiError(404, "notFound", "Not Found"))
        return html_response("<!doctype html><title>404</title><h1>404. That's an error.</h1>", 404)
