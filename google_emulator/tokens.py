"""Tokens: the `/token` endpoint, minting, Bearer authentication, revocation, userinfo, certs.

Grants are remembered per (client, account). Refresh tokens are issued on
every offline code exchange and never on refresh; revoking any token of a
grant revokes the whole grant, as Google does.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors
from . import scopes as sc
from .wire import Request, Response, json_response

if TYPE_CHECKING:
    from .app import Emulator


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
    with_id_token: bool = True,
    prune: bool = True,
) -> dict[str, Any]:
    """Mint an access token (and refresh token when `offline`) as `/token` returns them.

    `remember` (default: `scopes`) is added to the account's grant for the client. Bulk seeding
    (`/_emulator/bulk`) skips the id_token (an RSA signature each) and prunes once at the end.
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
        if sc.OPENID in scopes and with_id_token:
            response["id_token"] = id_token(app, email=email, client_id=client_id, scopes=scopes, nonce=nonce)
        if prune:
            prune_expired(store)
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


def prune_expired(store: Any) -> None:
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
