"""A logging filter that puts the request id and the practice/connection ids on every record.

Settings attach it to the console handler, so both the plain and the JSON format (``LOG_FORMAT``)
can show ``request_id``, ``practice_id`` and ``connection_id``. It never runs a query: the
practice id is known once the view (or the page) has loaded the request's membership.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.utils.functional import empty

from .requestid import ids_var, practice_var, request_id_var, request_var


def _practice_id() -> int | None:
    if practice_id := practice_var.get():
        return practice_id
    request = request_var.get()
    membership = getattr(request, "membership", None) if request is not None else None
    if membership is None or getattr(membership, "_wrapped", None) is empty:
        return None
    return getattr(membership, "practice_id", None)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            # django.request attaches the request, whose repr has the query string (search terms, names):
            # the JSON line keeps the method and path only.
            record.request = f"{request.method} {request.path}"
        ids = ids_var.get() or {}
        record.request_id = request_id_var.get()
        record.practice_id = ids.get("practice_id") or _practice_id()
        record.connection_id = ids.get("connection_id")
        record.calendar_id = ids.get("calendar_id")
        return True
