"""Pages are compressed on the wire, in a way that does not leak secrets through their size (BREACH)."""

from __future__ import annotations

import gzip
import re

from django.conf import settings

from tests.conftest import login

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_pages_are_gzipped_for_browsers_that_accept_it(client, alice):
    login(client, alice)
    plain = client.get("/calendars/week/")
    packed = client.get("/calendars/week/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) * 4 < len(plain.content)
    assert b'id="week-region"' in gzip.decompress(packed.content)


def test_htmx_fragments_are_gzipped_too(client, alice):
    login(client, alice)
    answer = client.get("/calendars/week/", HTTP_HX_REQUEST="true", HTTP_ACCEPT_ENCODING="gzip")
    assert answer["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.content).lstrip().startswith(b"<section")


def test_compression_comes_after_every_middleware_that_writes_the_page():
    """GZip sits above the middleware that render or change a response, below WhiteNoise (static files
    keep their own pre-compressed copies) and the metrics, which only time requests."""
    order = settings.MIDDLEWARE
    gzip_at = order.index("django.middleware.gzip.GZipMiddleware")
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") < gzip_at
    for writer in ("csp.middleware.CSPMiddleware", "django.contrib.messages.middleware.MessageMiddleware"):
        assert order.index(writer) > gzip_at


def test_the_csrf_token_in_a_compressed_page_is_masked_anew_for_every_response(client, alice):
    """BREACH guesses a secret byte by byte from compressed sizes over many responses: a token masked
    differently each time offers nothing to guess (docs/SECURITY.md, Compression)."""
    login(client, alice)
    tokens = {
        TOKEN.search(
            gzip.decompress(
                client.get("/calendars/appointments/new/", HTTP_ACCEPT_ENCODING="gzip").content
            ).decode()
        )[1]
        for _ in range(3)
    }
    assert len(tokens) == 3
