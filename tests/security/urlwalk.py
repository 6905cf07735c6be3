"""Every URL pattern of the portal, read from the URLconf (so new URLs are covered by themselves).

``portal_routes()`` yields one ``Route`` per pattern outside the parts that are not the portal's
own views; ``Route.paths(ids)`` fills its parameters: ints with each of the given ids, every other
converter with a value of the right shape.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RegexPattern, RoutePattern

# Parts of the URLconf that are not the portal's practice-scoped views, and why.
SKIPPED = {
    "admin/": "Django admin: staff only; test_admin_is_closed_to_portal_users walks it on its own",
    "accounts/": "allauth's sign-in, password and Google OAuth flows: not practice data, anonymous or "
    "self-service by design (the accounts and OAuth tests cover them)",
    "integrations/google/notifications/": "Google's webhook: no session, answers 200 to everyone and "
    "changes nothing without the channel token (tests/integrations/google/test_webhooks.py)",
}
# Values for converters other than int: the right shape, belonging to no one.
SAMPLES = {"str": "x", "slug": "practice-a", "path": "x/y", "uuid": "00000000-0000-0000-0000-000000000000"}
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # e.g. "calendars/appointments/<int:pk>/"
    name: str

    @property
    def int_params(self) -> list[str]:
        return [m["name"] for m in _PARAM.finditer(self.route) if m["converter"] == "int"]

    def paths(self, ids: Iterable[int], *, ids_everywhere: bool = False) -> Iterator[str]:
        """Concrete paths: every int parameter takes each id (all int parameters the same id).

        ``ids_everywhere``: string parameters take the ids too (the admin's ``<path:object_id>``).
        """
        if not self.int_params and not (ids_everywhere and "<" in self.route):
            yield "/" + self._fill(0, ids_everywhere)
            return
        for value in ids:
            yield "/" + self._fill(value, ids_everywhere)

    def _fill(self, value: int, ids_everywhere: bool = False) -> str:
        def one(match: re.Match) -> str:
            converter = match["converter"] or "str"
            if converter == "int" or (ids_everywhere and converter in {"str", "path"}):
                return str(value)
            return SAMPLES.get(converter, "x")

        return _PARAM.sub(one, self.route)


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, object, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + _text(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + _text(pattern.pattern), pattern.pattern, pattern.name or ""


def _text(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        for name, converter in pattern.converters.items():
            assert isinstance(converter, IntConverter) or type(converter).__name__ in {
                "StringConverter",
                "SlugConverter",
                "PathConverter",
                "UUIDConverter",
            }, f"teach tests/security/urlwalk.py the converter of {name!r} in {pattern}"
        return str(pattern)
    if isinstance(pattern, RegexPattern):
        return str(pattern)  # only allowed under SKIPPED (checked below)
    raise AssertionError(f"unknown URL pattern type {type(pattern)}")


def skipped_reason(route: str) -> str | None:
    return next((why for prefix, why in SKIPPED.items() if route.startswith(prefix)), None)


def all_routes() -> list[tuple[str, str]]:
    return [(route, name) for route, _, name in _walk(get_resolver().url_patterns)]


def portal_routes() -> list[Route]:
    """Every pattern outside ``SKIPPED``, once each, in URLconf order."""
    seen, routes = set(), []
    for route, pattern, name in _walk(get_resolver().url_patterns):
        if skipped_reason(route) or route in seen:
            continue
        assert not isinstance(pattern, RegexPattern), f"teach tests/security/urlwalk.py the regex {route!r}"
        seen.add(route)
        routes.append(Route(route=route, name=name))
    return routes


def object_routes() -> list[Route]:
    """The portal patterns that name an object by id."""
    return [r for r in portal_routes() if r.int_params]


def variants() -> list[tuple[str, dict]]:
    """GET and POST, plain and as htmx sends them."""
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/calendars/week/"}
    return [(m, h) for m, h in itertools.product(("get", "post"), ({}, htmx))]
