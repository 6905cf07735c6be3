"""Every URL pattern of the portal, read from the URLconf (so new URLs are covered by themselves).

``portal_routes()`` yields one ``Route`` per pattern outside the parts that are not the portal's
own views; ``Route.paths(ids, values=...)`` fills its parameters: ints with each of the given ids,
every other parameter with the values given for its name (or its converter), else with a value of
the right shape that belongs to no one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    view: Callable | None = None

    @property
    def params(self) -> list[tuple[str, str]]:
        """(converter, name) of each parameter, in order."""
        return [(m["converter"] or "str", m["name"]) for m in _PARAM.finditer(self.route)]

    @property
    def int_params(self) -> list[str]:
        return [name for converter, name in self.params if converter == "int"]

    @property
    def other_params(self) -> list[tuple[str, str]]:
        """(converter, name) of each parameter that is not an int id (tokens, slugs, ...)."""
        return [(converter, name) for converter, name in self.params if converter != "int"]

    @property
    def is_public(self) -> bool:
        """Open without signing in by design (``login_not_required``), such as a public booking page."""
        return getattr(self.view, "login_required", True) is False

    def paths(
        self,
        ids: Iterable[int],
        *,
        values: Mapping[str, Sequence[str]] | None = None,
        ids_everywhere: bool = False,
    ) -> Iterator[str]:
        """Concrete paths: every int parameter takes each id (all int parameters the same id), and
        every other parameter each of ``values[name]`` (else ``values[converter]``, else a sample).

        ``ids_everywhere``: string parameters take the ids too (the admin's ``<path:object_id>``).
        """
        values = values or {}
        ids = list(ids)

        def choices(converter: str, name: str) -> Sequence[str]:
            if converter == "int" or (ids_everywhere and converter in {"str", "path"}):
                return [str(i) for i in ids]
            return values.get(name) or values.get(converter) or [SAMPLES.get(converter, "x")]

        params = self.params
        if not params:
            yield "/" + self.route
            return
        # All int parameters (and, with ids_everywhere, string ones) share one id per path.
        shared = [p for p in params if p[0] == "int" or (ids_everywhere and p[0] in {"str", "path"})]
        own = [p for p in params if p not in shared]
        shared_values = choices(*shared[0]) if shared else [None]
        for shared_value in shared_values:
            for combination in itertools.product(*(choices(*p) for p in own)):
                filled = {name: shared_value for _, name in shared}
                filled.update(zip((name for _, name in own), combination, strict=True))
                yield "/" + _fill(self.route, filled)


def _fill(route: str, values: Mapping[str, str]) -> str:
    return _PARAM.sub(lambda match: values[match["name"]], route)


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, object, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + _text(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + _text(pattern.pattern), pattern, pattern.name or ""


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
        assert not isinstance(pattern.pattern, RegexPattern), (
            f"teach tests/security/urlwalk.py the regex {route!r}"
        )
        seen.add(route)
        routes.append(Route(route=route, name=name, view=pattern.callback))
    return routes


def object_routes() -> list[Route]:
    """The portal patterns that name an object: by id, or by a token, slug or other string."""
    return [r for r in portal_routes() if r.params]


def variants() -> list[tuple[str, dict]]:
    """GET and POST, plain and as htmx sends them."""
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/calendars/week/"}
    return [(m, h) for m, h in itertools.product(("get", "post"), ({}, htmx))]
