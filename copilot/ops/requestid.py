"""A request id for every request, carried into the django-q2 tasks the request enqueues.

The id (the caller's ``X-Request-ID`` when it looks sane, a fresh one otherwise) lives in a
context variable for the request and is returned in the response's ``X-Request-ID``. Three
django-q2 signals carry it across the queue, so the queue code itself needs no change:
``pre_enqueue`` writes it (and the request's practice) into the task, ``pre_execute`` adopts
them in the worker (with the task's ``connection_id`` / ``calendar_pk`` arguments, for the
logs), ``post_execute_in_worker`` puts the previous values back. A task enqueued by a schedule
gets its task id instead.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
import threading
import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
ids_var: ContextVar[dict[str, int] | None] = ContextVar("log_ids", default=None)
request_var: ContextVar[object | None] = ContextVar("request", default=None)
practice_var: ContextVar[int | None] = ContextVar("practice_id", default=None)

HEADER = "X-Request-ID"
SANE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
TASK_KEY = "request_id"
TASK_PRACTICE_KEY = "log_practice_id"
# Task arguments whose values go into log records (ids only: never anything a person typed).
ID_ARGUMENTS = {"connection_id": "connection_id", "calendar_pk": "calendar_id", "practice_id": "practice_id"}

logger = logging.getLogger("copilot.tasks")
_outer = threading.local()


def sane_or_new(value: str | None) -> str:
    """The caller's id if it is 8–128 characters of ``A-Za-z0-9._:-``; otherwise a new one."""
    if value and SANE.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Names the request; the id stays set until ``request_finished`` (``end_request``), so Django's
    own ``django.request`` lines, written after the middleware returns, carry it too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = sane_or_new(request.headers.get(HEADER))
        request_id_var.set(request.request_id)
        request_var.set(request)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Note the practice when the view resolves the current membership (costs no query of its own)."""
        resolve = getattr(request, "get_membership", None)
        if resolve is None:
            return None

        def get_membership():
            membership = resolve()
            if membership is not None:
                practice_var.set(membership.practice_id)
            return membership

        request.get_membership = get_membership
        return None


def end_request(sender, **kwargs) -> None:
    """request_finished: nothing logged after the response names this request."""
    request_id_var.set(None)
    request_var.set(None)
    practice_var.set(None)


# --- Across the queue (django-q2 signals) -------------------------------------------------------


def carry_into_task(sender, task: dict, **kwargs) -> None:
    """pre_enqueue: the enqueuing request's id travels inside the task."""
    request_id = request_id_var.get()
    if request_id:
        task[TASK_KEY] = request_id
    practice_id = practice_var.get()
    if practice_id:
        task[TASK_PRACTICE_KEY] = practice_id


def _task_ids(func, task: dict) -> dict[str, int]:
    try:
        bound = inspect.signature(func).bind_partial(*task.get("args", ()), **task.get("kwargs", {}))
    except (TypeError, ValueError):
        return {}
    return {
        field: value
        for name, field in ID_ARGUMENTS.items()
        if isinstance(value := bound.arguments.get(name), int)
    }


def adopt_from_task(sender, func, task: dict, **kwargs) -> None:
    """pre_execute: log this task's lines under the id of the request that enqueued it."""
    stack = getattr(_outer, "stack", None)
    if stack is None:
        stack = _outer.stack = []
    stack.append((request_id_var.get(), ids_var.get(), time.monotonic()))
    request_id_var.set(task.get(TASK_KEY) or str(task.get("id", "")) or uuid.uuid4().hex)
    ids = {"practice_id": task[TASK_PRACTICE_KEY]} if task.get(TASK_PRACTICE_KEY) else {}
    ids_var.set(ids | (_task_ids(func, task) if func is not None else {}))
    logger.info(
        "Task %s started", task.get("func") if isinstance(task.get("func"), str) else task.get("name")
    )


def leave_task(sender, func, task: dict, **kwargs) -> None:
    """post_execute_in_worker: log the outcome, then restore what the worker had before."""
    stack = getattr(_outer, "stack", None) or [(None, None, time.monotonic())]
    request_id, ids, started = stack.pop()
    # In sync mode a failing task's exception is being handled right now (no "success" key yet).
    failed = task.get("success") is False or sys.exc_info()[0] is not None
    outcome = "failed" if failed else "succeeded"
    logger.info(
        "Task %s %s in %.3f s",
        task.get("func") if isinstance(task.get("func"), str) else task.get("name"),
        outcome,
        time.monotonic() - started,
    )
    request_id_var.set(request_id)
    ids_var.set(ids)
