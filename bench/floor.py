"""The stack's floor: a URL that answers with bytes held in memory, through every middleware.

``ROOT_URLCONF = "bench.floor"`` serves the product's URLs plus ``/_bench/floor/<key>/``, which
returns ``PAGES[key]`` as it is: same middleware (session, authentication, login required,
current practice, security headers, compression), no queries of its own, no template. A page's
time divided by the floor's time with the same bytes is what that page costs above its stack.
Benchmarks only: nothing of the product imports this module.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from copilot.urls import urlpatterns as product_urlpatterns

PAGES: dict[str, bytes] = {}


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    """The bytes stored under ``key``, as a page."""
    return HttpResponse(PAGES[key], content_type="text/html; charset=utf-8")


urlpatterns = [path("_bench/floor/<str:key>/", floor_view), *product_urlpatterns]
