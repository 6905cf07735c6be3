"""Response headers that Django's SecurityMiddleware does not set, and the methods the portal speaks.

- ``Permissions-Policy`` on every response: the portal needs no camera, microphone, location,
  payment or sensors, so a page can never ask for them (nor can anything framed or injected).
- ``Cache-Control: no-store`` on every response to a signed-in person: portal pages show patient
  names, and neither the browser's disk cache nor a shared proxy may keep them after sign-out.

Static files never reach this middleware: WhiteNoise answers them earlier in the chain, so they
stay cacheable. The Content-Security-Policy comes from django-csp (settings ``CONTENT_SECURITY_POLICY``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.cache import add_never_cache_headers

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "browsing-topics",
    )
)


class SecurityHeadersMiddleware:
    """Adds Permissions-Policy everywhere and no-store caching for signed-in people."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


PORTAL_METHODS = ("GET", "HEAD", "POST")


class PortalMethodsMiddleware:
    """405 for any method but GET, HEAD and POST, before a session or a view is touched.

    Pages and htmx requests use only these; a function view that does not check the method would
    otherwise treat PUT, DELETE or OPTIONS like a GET (and some class views redirect them). Views
    still narrow further with ``require_safe`` / ``require_POST`` / ``require_http_methods``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in PORTAL_METHODS:
            return HttpResponseNotAllowed(PORTAL_METHODS)
        return self.get_response(request)
