"""OAuth 2.0 clients and the authorization request: validation, consent, codes.

An authorization code is single-use, lives 10 minutes, and is bound to its
client, redirect URI and PKCE challenge; `tokens.py` exchanges it.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import consent
from . import scopes as sc
from .tokens import grant_key
from .wire import Request, Response, add_query, html_response, redirect

if TYPE_CHECKING:
    from .app import Emulator

DEFAULT_CLIENT_ID = "copilot-local.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "copilot-local-secret"
CODE_LIFETIME = 600
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
AUTH_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "access_type",
    "prompt",
    "include_granted_scopes",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
    "nonce",
)


# -- clients -------------------------------------------------------------------
def default_client() -> dict[str, Any]:
    return {
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "name": "Copilot Calendars (local)",
        "redirect_uris": None,
    }


def register_client(app: Emulator, spec: dict[str, Any]) -> dict[str, Any]:
    """Register a client: `client_id`, `client_secret`, optional `redirect_uris` and `name`.

    `redirect_uris: null` (the default) allows any loopback http(s) URI.
    """
    client_id = (
        spec.get("client_id") or f"{secrets.randbelow(10**12):012d}-emulator.apps.googleusercontent.com"
    )
    client = {
        "client_id": client_id,
        "client_secret": spec.get("client_secret") or secrets.token_urlsafe(18),
        "name": spec.get("name") or client_id,
        "redirect_uris": spec.get("redirect_uris"),
    }
    with app.store.lock:
        app.store.clients[client_id] = client
        app.store.mark_dirty()
    return client


def is_loopback_uri(uri: str) -> bool:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_allowed(client: dict[str, Any], uri: str) -> bool:
    if client.get("redirect_uris") is None:
        return is_loopback_uri(uri)
    return uri in client["redirect_uris"]


# -- the authorization request -----------------------------------------------
class PageError(Exception):
    """An auth request too broken to redirect back: show Google's error page."""

    def __init__(self, code: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.error, self.detail = code, error, detail


class RedirectError(Exception):
    """An auth request error reported back to the (validated) redirect URI."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error, self.detail = error, detail


@dataclass
class AuthRequest:
    client: dict[str, Any]
    redirect_uri: str
    state: str | None
    scopes: list[str]
    params: dict[str, str] = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return self.params.get("access_type") == "offline"

    @property
    def prompts(self) -> set[str]:
        return set(self.params.get("prompt", "").split())

    def fail(self, error: str) -> Response:
        values = {"error": error}
        if self.state is not None:
            values["state"] = self.state
        return redirect(add_query(self.redirect_uri, values))


def parse_auth_request(app: Emulator, params: dict[str, str]) -> AuthRequest:
    """Validate the query of `/o/oauth2/v2/auth`; raise PageError or RedirectError."""
    client = app.store.clients.get(params.get("client_id", ""))
    if client is None:
        raise PageError(401, "invalid_client", "The OAuth client was not found.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise PageError(400, "invalid_request", "Missing required parameter: redirect_uri")
    if not redirect_allowed(client, redirect_uri):
        raise PageError(
            400,
            "redirect_uri_mismatch",
            f"You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. "
            f"redirect_uri={redirect_uri} is not registered for this client.",
        )
    request = AuthRequest(client, redirect_uri, params.get("state"), [], params)
    if params.get("response_type") != "code":
        raise RedirectError("invalid_request", "response_type must be 'code'.")
    _check_auth_options(params)
    try:
        request.scopes = sc.normalize(sc.split(params.get("scope")))
    except sc.UnknownScope as exc:
        raise RedirectError(
            "invalid_scope", f"Some requested scopes were invalid. {{invalid=[{exc}]}}"
        ) from exc
    if not request.scopes:
        raise RedirectError("invalid_request", "Missing required parameter: scope")
    return request


def _check_auth_options(params: dict[str, str]) -> None:
    if params.get("access_type", "online") not in ("online", "offline"):
        raise RedirectError("invalid_request", "Invalid access_type.")
    prompts = set(params.get("prompt", "").split())
    if not prompts <= {"none", "consent", "select_account"} or ("none" in prompts and len(prompts) > 1):
        raise RedirectError("invalid_request", "Invalid prompt.")
    method = params.get("code_challenge_method")
    if method and (method not in ("S256", "plain") or not params.get("code_challenge")):
        raise RedirectError("invalid_request", "Invalid code_challenge_method.")


def _auth_params(req: Request) -> dict[str, str]:
    form = req.form() if req.method == "POST" else req.query
    return {name: form[name][0] for name in AUTH_PARAMS if form.get(name)}


def authorize_page(app: Emulator, req: Request) -> Response:
    """GET /o/oauth2/v2/auth: validate, then show the account chooser and consent."""
    params = _auth_params(req)
    try:
        request = parse_auth_request(app, params)
    except PageError as exc:
        return html_response(consent.error_page(exc.code, exc.error, exc.detail), exc.code)
    except RedirectError as exc:
        return _redirect_error(app, params, exc)
    if "none" in request.prompts:
        return _silent_authorization(app, request)
    return html_response(_render_consent(app, request))


def _redirect_error(app: Emulator, params: dict[str, str], exc: RedirectError) -> Response:
    client = app.store.clients[params["client_id"]]
    request = AuthRequest(client, params["redirect_uri"], params.get("state"), [], params)
    return request.fail(exc.error)


def _render_consent(app: Emulator, request: AuthRequest, error: str | None = None) -> str:
    accounts = sorted(app.store.data["accounts"].values(), key=lambda a: a["email"])
    hint = (request.params.get("login_hint") or "").lower() or None
    return consent.consent_page(
        client_name=request.client["name"],
        accounts=accounts,
        selected_email=hint if hint and app.store.account(hint) else None,
        requested=request.scopes,
        hidden={k: v for k, v in request.params.items() if k != "scope"}
        | {"requested_scope": " ".join(request.scopes)},
        action="/o/oauth2/v2/auth/consent",
        error=error,
    )


def _silent_authorization(app: Emulator, request: AuthRequest) -> Response:
    """`prompt=none`: succeed only for a hinted account that already granted everything."""
    email = (request.params.get("login_hint") or "").lower()
    if not email or not app.store.account(email):
        return request.fail("login_required")
    grant = app.store.data["grants"].get(grant_key(request.client["client_id"], email))
    if not grant or not set(request.scopes) <= set(grant["scopes"]):
        return request.fail("consent_required")
    return _approve(app, request, email, request.scopes)


def consent_submit(app: Emulator, req: Request) -> Response:
    """POST of the consent form: `email`, repeated `scope`, `action=allow|deny`."""
    form = req.form()
    params = _auth_params(req)
    if "requested_scope" in form:
        params["scope"] = form["requested_scope"][0]
    try:
        request = parse_auth_request(app, params)
    except PageError as exc:
        return html_response(consent.error_page(exc.code, exc.error, exc.detail), exc.code)
    except RedirectError as exc:
        return _redirect_error(app, params, exc)
    if (form.get("action") or ["deny"])[0] != "allow":
        return request.fail("access_denied")
    email = (form.get("email") or [""])[0].lower()
    if not app.store.account(email):
        return html_response(_render_consent(app, request, "Choose an account to continue."), 400)
    try:
        ticked = set(sc.normalize(form.get("scope", [])))
    except sc.UnknownScope:
        ticked = set()
    # Sign-in scopes are not optional on Google's granular consent screen.
    granted = [s for s in request.scopes if s in ticked or s in sc.IDENTITY]
    return _approve(app, request, email, granted)


def _approve(app: Emulator, request: AuthRequest, email: str, granted: list[str]) -> Response:
    client_id = request.client["client_id"]
    with app.store.lock:
        token_scopes = set(granted)
        grant = app.store.data["grants"].get(grant_key(client_id, email))
        if grant and request.params.get("include_granted_scopes") == "true":
            token_scopes |= set(grant["scopes"])
        code = "4/0A" + secrets.token_urlsafe(32)
        app.store.data["codes"][code] = {
            "client_id": client_id,
            "redirect_uri": request.redirect_uri,
            "email": email,
            "granted": granted,
            "scopes": sc.ordered(token_scopes),
            "offline": request.offline,
            "code_challenge": request.params.get("code_challenge"),
            "code_challenge_method": request.params.get("code_challenge_method", "plain"),
            "nonce": request.params.get("nonce"),
            "expires_at": time.time() + CODE_LIFETIME,
        }
        app.store.mark_dirty()
    values = {"code": code, "scope": " ".join(sc.ordered(token_scopes)), "authuser": "0", "prompt": "consent"}
    if request.state is not None:
        values = {"state": request.state} | values
    return redirect(add_query(request.redirect_uri, values))
