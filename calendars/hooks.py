"""How other apps hear about appointment changes, inside the writing transaction.

Explicit registration instead of Django signals: the booking services call
``appointment_changed`` themselves, so the flow is visible and ordered. The
integrations app registers a listener that marks its Google outbox. Where a change came from
is in the appointment's history (``AppointmentChange.source``), not told to listeners.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Appointment

AppointmentListener = Callable[[Appointment], None]

_listeners: list[AppointmentListener] = []


def register_appointment_listener(listener: AppointmentListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def appointment_changed(appointment: Appointment) -> None:
    """Tell listeners that ``appointment`` changed. Called inside the service's transaction."""
    for listener in _listeners:
        listener(appointment)
