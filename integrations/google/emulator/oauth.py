"""OAuth 2.0 / OpenID Connect: authorization page, consent, tokens, certs, userinfo.

Grants are remembered per (client, account). An authorization code is
single-use, lives 10 minutes, and is bound to its client, redirect URI and
PKCE challenge. Refresh tokens are issued on every offline code exchange;
revoking any token of a grant revokes the whole grant, as Google does.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import consent, errors
from . import scopes as sc
from .wire import Request, Response, add_query, html_response, json_response, redirect

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


# -- tokens --------------------------------------------------------------------
def grant_key(client_id: str, email: str) -> str:
    return f"{client_id}|{email.lower()}"


def token_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def _client_credentials(req: Request, form: dict[str, list[str]]) -> tuple[str, str]:
    auth = req.header("authorization") or ""
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)
    return (form.get("client_id") or [""])[0], (form.get("client_secret") or [""])[0]


def token_endpoint(app: Emulator, req: Request) -> Response:
    """POST /token: `authorization_code` and `refresh_token` grants."""
    form = req.form()
    client_id, secret = _client_credentials(req, form)
    client = app.store.clients.get(client_id)
    if client is None:
        return token_error("invalid_client", "The OAuth client was not found.", 401)
    if not secrets.compare_digest(client["client_secret"], secret):
        return token_error("invalid_client", "Unauthorized", 401)
    grant_type = (form.get("grant_type") or [""])[0]
    if grant_type == "authorization_code":
        return _exchange_code(app, client_id, form)
    if grant_type == "refresh_token":
        return _refresh(app, client_id, form)
    return token_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")


def _pkce_ok(record: dict[str, Any], verifier: str | None) -> bool:
    challenge = record.get("code_challenge")
    if not challenge:
        return True
    if not verifier:
        return False
    if record.get("code_challenge_method") == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(verifier, challenge)


def _exchange_code(app: Emulator, client_id: str, form: dict[str, list[str]]) -> Response:
    code = (form.get("code") or [""])[0]
    record = app.store.data["codes"].pop(code, None)
    app.store.mark_dirty()
    if record is None:
        return token_error(
            "invalid_grant", "Malformed auth code." if not code.startswith("4/") else "Bad Request"
        )
    if record["expires_at"] < time.time() or record["client_id"] != client_id:
        return token_error("invalid_grant", "Bad Request")
    if (form.get("redirect_uri") or [""])[0] != record["redirect_uri"]:
        return token_error("redirect_uri_mismatch", "Bad Request")
    verifier = (form.get("code_verifier") or [None])[0]
    if not _pkce_ok(record, verifier):
        return token_error(
            "invalid_grant", "Missing code verifier." if not verifier else "Invalid code verifier."
        )
    tokens = issue_tokens(
        app,
        email=record["email"],
        client_id=client_id,
        scopes=record["scopes"],
        remember=record["granted"],
        offline=record["offline"],
        nonce=record.get("nonce"),
    )
    return json_response(tokens, headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})


def _refresh(app: Emulator, client_id: str, form: dict[str, list[str]]) -> Response:
    token = (form.get("refresh_token") or [""])[0]
    record = app.store.data["refresh_tokens"].get(token)
    if record is None or record["client_id"] != client_id:
        return token_error("invalid_grant", "Token has been expired or revoked.")
    requested = sc.split((form.get("scope") or [""])[0])
    try:
        wanted = set(sc.normalize(requested)) if requested else set(record["scopes"])
    except sc.UnknownScope:
        return token_error("invalid_scope", "Some requested scopes were invalid.")
    if not wanted <= set(record["scopes"]):
        return token_error("invalid_scope", "Bad Request")
    tokens = issue_tokens(
        app,
        email=record["email"],
        client_id=client_id,
        scopes=sc.ordered(wanted),
        offline=False,
        refresh_of=token,
    )
    return json_response(tokens)


def issue_tokens(
    app: Emulator,
    *,
    email: str,
    client_id: str,
    scopes: list[str],
    offline: bool,
    remember: list[str] | None = None,
    nonce: str | None = None,
    refresh_of: str | None = None,
) -> dict[str, Any]:
    """Mint an access token (and refresh token when `offline`) as `/token` returns them.

    `remember` (default: `scopes`) is added to the account's grant for the client.
    """
    store = app.store
    key = grant_key(client_id, email)
    with store.lock:
        grant = store.data["grants"].setdefault(key, {"email": email, "client_id": client_id, "scopes": []})
        grant["scopes"] = sc.ordered(set(grant["scopes"]) | set(remember if remember is not None else scopes))
        access = "ya29.a0" + secrets.token_urlsafe(40)
        lifetime = app.token_lifetime
        store.data["access_tokens"][access] = {
            "email": email,
            "client_id": client_id,
            "scopes": list(scopes),
            "expires_at": time.time() + lifetime,
            "grant": key,
        }
        response: dict[str, Any] = {
            "access_token": access,
            "expires_in": lifetime,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if offline and refresh_of is None:
            refresh = "1//0" + secrets.token_urlsafe(40)
            store.data["refresh_tokens"][refresh] = {
                "email": email,
                "client_id": client_id,
                "scopes": list(scopes),
                "grant": key,
            }
            response["refresh_token"] = refresh
        if sc.OPENID in scopes:
            response["id_token"] = id_token(app, email=email, client_id=client_id, scopes=scopes, nonce=nonce)
        _prune_expired(store)
        store.mark_dirty()
    return response


def id_token(app: Emulator, *, email: str, client_id: str, scopes: list[str], nonce: str | None) -> str:
    """An RS256 id_token for `email`, its claims limited by the granted scopes."""
    account = app.store.account(email)
    issued = int(time.time())
    claims: dict[str, Any] = {
        "iss": app.base_url,
        "azp": client_id,
        "aud": client_id,
        "sub": account["sub"],
        "iat": issued,
        "exp": issued + 3600,
    }
    if sc.EMAIL in scopes:
        claims |= {"email": account["email"], "email_verified": True}
    if sc.PROFILE in scopes:
        claims |= {
            "name": account["name"],
            "given_name": account["given_name"],
            "family_name": account["family_name"],
            "picture": account["picture"],
        }
    if nonce:
        claims["nonce"] = nonce
    return app.store.signing_key.sign(claims)


def _prune_expired(store: Any) -> None:
    now = time.time()
    tokens = store.data["access_tokens"]
    for token in [t for t, r in tokens.items() if r["expires_at"] < now - 3600]:
        del tokens[token]
    codes = store.data["codes"]
    for code in [c for c, r in codes.items() if r["expires_at"] < now]:
        del codes[code]


# -- using and revoking tokens ----------------------------------------------
@dataclass
class Caller:
    email: str
    client_id: str
    scopes: frozenset[str]

    def require(self, any_of: frozenset[str]) -> None:
        """Raise 403 insufficientPermissions unless one of `any_of` was granted."""
        if not self.scopes & any_of:
            raise errors.insufficient_scopes()


def bearer_token(req: Request) -> str | None:
    auth = req.header("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return req.arg("access_token")


def authenticate(app: Emulator, req: Request) -> Caller:
    """The caller behind the request's Bearer token; raise Google's 401 otherwise."""
    record = app.store.data["access_tokens"].get(bearer_token(req) or "")
    if record is None or record["expires_at"] <= time.time():
        raise errors.unauthenticated()
    return Caller(record["email"], record["client_id"], frozenset(record["scopes"]))


def revoke_grant(app: Emulator, key: str) -> None:
    """Forget a grant and every access and refresh token issued under it."""
    data = app.store.data
    data["grants"].pop(key, None)
    for kind in ("access_tokens", "refresh_tokens"):
        for token in [t for t, r in data[kind].items() if r["grant"] == key]:
            del data[kind][token]
    app.store.mark_dirty()


def revoke_account(app: Emulator, email: str) -> int:
    """Revoke every grant of an account; return how many grants there were."""
    keys = {r["grant"] for kind in ("access_tokens", "refresh_tokens") for r in app.store.data[kind].values()}
    keys |= set(app.store.data["grants"])
    mine = [k for k in keys if k.endswith("|" + email.lower())]
    for key in mine:
        revoke_grant(app, key)
    return len(mine)


def revoke_endpoint(app: Emulator, req: Request) -> Response:
    """POST /revoke `token=`: access or refresh token; revokes the whole grant."""
    token = (req.form().get("token") or [""])[0]
    data = app.store.data
    record = data["access_tokens"].get(token) or data["refresh_tokens"].get(token)
    if record is None:
        return token_error("invalid_token", "Token expired or revoked")
    revoke_grant(app, record["grant"])
    return json_response({})


def userinfo(app: Emulator, req: Request, *, oidc: bool) -> Response:
    """Userinfo for the Bearer token: v2 shape (`id`) or OpenID shape (`sub`)."""
    caller = authenticate(app, req)
    account = app.store.account(caller.email)
    info: dict[str, Any] = {"sub": account["sub"]} if oidc else {"id": account["sub"]}
    if sc.EMAIL in caller.scopes:
        info["email"] = account["email"]
        info["email_verified" if oidc else "verified_email"] = True
    if sc.PROFILE in caller.scopes:
        for key in ("name", "given_name", "family_name", "picture"):
            info[key] = account[key]
    return json_response(info)


def certs_v1(app: Emulator, req: Request) -> Response:
    return json_response(app.store.signing_key.certs_v1(), headers={"Cache-Control": "public, max-age=3600"})


def certs_v3(app: Emulator, req: Request) -> Response:
    return json_response(app.store.signing_key.jwks(), headers={"Cache-Control": "public, max-age=3600"})


def openid_configuration(app: Emulator, req: Request) -> Response:
    base = app.base_url
    return json_response(
        {
            "issuer": base,
            "authorization_endpoint": base + "/o/oauth2/v2/auth",
            "token_endpoint": base + "/token",
            "userinfo_endpoint": base + "/v1/userinfo",
            "revocation_endpoint": base + "/revoke",
            "jwks_uri": base + "/oauth2/v3/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": [
                "aud",
                "email",
                "email_verified",
                "exp",
                "family_name",
                "given_name",
                "iat",
                "iss",
                "name",
                "picture",
                "sub",
            ],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }
    )
