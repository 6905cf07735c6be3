"""HTML of the account chooser / consent screen and of OAuth error pages.

Element names are a contract with browser tests: `<input type=radio
name=email>`, `<input type=checkbox name=scope>`, and buttons `name=action`
with values `allow` ("Allow") and `deny` ("Cancel").
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from . import scopes as sc

STYLE = """
body{font-family:Arial,Helvetica,sans-serif;background:#f1f3f4;margin:0}
main{max-width:520px;margin:40px auto;background:#fff;border:1px solid #dadce0;border-radius:8px;
  padding:24px 32px}
h1{font-size:22px;font-weight:400} .muted{color:#5f6368;font-size:13px}
fieldset{border:none;padding:0;margin:16px 0} label{display:block;margin:8px 0}
button{padding:8px 20px;margin-right:8px;border-radius:4px;border:1px solid #dadce0;background:#fff;
  cursor:pointer}
button[value=allow]{background:#1a73e8;color:#fff;border-color:#1a73e8}
.error{color:#d93025}
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def error_page(code: int, error: str, detail: str) -> str:
    """Google's "Access blocked" page: shown instead of redirecting anywhere."""
    body = (
        "<h1>Access blocked: This app's request is invalid</h1>"
        f"<p class=error id=error-code>Error {code}: {escape(error)}</p>"
        f"<p id=error-detail>{escape(detail)}</p>"
        "<p class=muted>Request details are shown by the Google emulator; real Google hides them.</p>"
    )
    return page(f"Error {code}: {error}", body)


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type=hidden name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items()
        if v is not None
    )


def _account_choices(accounts: Iterable[dict[str, Any]], selected: str | None) -> str:
    rows = []
    for index, account in enumerate(accounts):
        email = account["email"]
        checked = " checked" if email == selected or (selected is None and index == 0) else ""
        rows.append(
            f'<label><input type=radio name=email id="account-{index}" value="{escape(email)}"{checked}> '
            f"{escape(account['name'])} &lt;{escape(email)}&gt;</label>"
        )
    if not rows:
        return (
            "<p class=error id=no-accounts>No Google accounts exist yet. "
            "Create one with POST /_emulator/users.</p>"
        )
    return "<fieldset><legend>Choose an account</legend>" + "".join(rows) + "</fieldset>"


def _scope_choices(requested: list[str]) -> str:
    rows = []
    for index, scope in enumerate(requested):
        rows.append(
            f'<label><input type=checkbox name=scope id="scope-{index}" value="{escape(scope)}" checked> '
            f"{escape(sc.DESCRIPTIONS[scope])} <span class=muted>({escape(scope)})</span></label>"
        )
    return "<fieldset><legend>Select what the app can access</legend>" + "".join(rows) + "</fieldset>"


def consent_page(
    *,
    client_name: str,
    accounts: list[dict[str, Any]],
    selected_email: str | None,
    requested: list[str],
    hidden: dict[str, str],
    action: str,
    error: str | None = None,
) -> str:
    """The sign-in and consent screen; the form POSTs to `action`."""
    notice = f"<p class=error id=form-error>{escape(error)}</p>" if error else ""
    body = (
        "<h1>Sign in with Google</h1>"
        f"<p><strong id=client-name>{escape(client_name)}</strong> wants to access your Google Account</p>"
        f'{notice}<form method=post action="{escape(action)}" id=consent-form>'
        f"{_hidden(hidden)}{_account_choices(accounts, selected_email)}{_scope_choices(requested)}"
        "<p class=muted>Make sure you trust this app. You can remove access at any time.</p>"
        "<button type=submit name=action value=deny id=deny>Cancel</button>"
        "<button type=submit name=action value=allow id=allow>Allow</button>"
        "</form>"
    )
    return page(f"Sign in - Google Accounts ({client_name})", body)
