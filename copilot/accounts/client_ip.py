"""The client's address, as every per-address limit counts it.

Behind the TLS-terminating proxy (``BEHIND_PROXY``) every request comes from the proxy, so the
client is the hop the proxy appended to X-Forwarded-For (``ALLAUTH_TRUSTED_PROXY_COUNT``); directly
exposed, it is REMOTE_ADDR and X-Forwarded-For is ignored (anyone can send one). allauth's adapter
already decides this for the login limits: this one helper hands the same answer to the others.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's IP address. Raises ``PermissionDenied`` (403) when none can be read."""
    return get_adapter(request).get_client_ip(request)
