"""Template tags of the time grids: day columns, their free-slot links and tiles, and the week's agenda.

A week has 182 free slots and a team day of 50 people 1,300; rendered through the template
language each costs a dozen variable lookups and localized numbers, so the pages spent most of
their time there. These tags write the same markup in one pass of Python: numbers as plain
digits, text through ``html.escape`` (what Django's ``escape`` does), URLs from one ``reverse``
per page rather than one per item.
"""

from __future__ import annotations

from html import escape

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe

from calendars.models import Appointment

register = template.Library()

_STATUS_LABELS = {value: escape(str(label)) for value, label in Appointment.Status.choices}

_PK = 2_147_483_647  # stands for the primary key while a URL with one is reversed once


def pk_url(name: str) -> str:
    """``reverse(name, args=[pk])`` as a ``str.format`` pattern with ``{}`` where the pk goes."""
    key = (get_script_prefix(), name)
    pattern = _pk_patterns.get(key)
    if pattern is None:
        pattern = _pk_patterns[key] = reverse(name, args=[_PK]).replace(str(_PK), "{}")
    return pattern


_pk_patterns: dict[tuple[str, str], str] = {}


def _slots(column, staff, can_manage: bool, day_label: str) -> list[str]:
    iso = column.date.isoformat()
    booking = escape(f"{reverse('calendars:appointment_new')}?staff={staff.pk}&date={iso}&start=")
    label = escape(day_label)
    rows = []
    for slot in column.slots:
        if not slot.exists:
            rows.append(
                f'<div class="slot-gap" style="--top: {slot.top}; --len: {slot.height};" '
                f'title="{slot.label} does not exist this day: the clocks go forward."></div>'
            )
        elif can_manage:
            url = booking + slot.label
            rows.append(
                f'<a class="slot" style="--top: {slot.top}; --len: {slot.height};" href="{url}" '
                f'hx-get="{url}" hx-target="#modal-body" aria-label="Book {label} {slot.label}">'
                f"+ {slot.label}</a>"
            )
    return rows


def _tile(block, can_manage: bool, edit: str, detail: str) -> str:
    appointment = block.item
    url = (edit if can_manage else detail).format(appointment.pk)
    classes = "appt"
    if appointment.appointment_type_id:  # colour by type (a class: no colour in a style attribute)
        classes += f" type-{escape(appointment.appointment_type.colour)}"
    for flag, css in (
        (appointment.has_conflict, " has-conflict"),
        (block.continues_before, " continues-before"),
        (block.continues_after, " continues-after"),
        (block.is_short, " is-short"),
    ):
        if flag:
            classes += css
    conflict = "Conflict: " if appointment.has_conflict else ""
    marker = '<span class="conflict-marker">⚠ Conflict</span> ' if appointment.has_conflict else ""
    title, when = escape(appointment.title), block.time_label
    status = _STATUS_LABELS.get(appointment.status) or escape(appointment.get_status_display())
    status += " · Online" if appointment.booked_online else ""
    sync = getattr(appointment, "sync_badge", None)  # views.attach_badges; conflicts have their marker
    chip, sync_words = "", ""
    if sync is not None and sync.state != "conflict":
        label = escape(sync.label)
        chip = f'<span class="sync-chip sync-{escape(sync.state)}" aria-hidden="true">{label}</span>'
        sync_words = f", {escape(sync.label)}"
    owner = escape(getattr(appointment, "with_owner", ""))  # selectors.appointments_by_member
    with_title = f" with {owner}" if owner else ""
    with_owner = _with_owner(appointment)
    return (
        f'<a class="{classes}" style="--top: {block.top}; --len: {block.height}; --lane: {block.lane}; '
        f'--lanes: {block.lanes};" href="{url}" hx-get="{url}" hx-target="#modal-body" '
        f'data-appointment="{appointment.pk}" title="{title}{with_title}, {when}" '
        f'aria-label="{conflict}{title}{with_title}, {when}, {status}{sync_words}">'
        f'<span class="appt-title" aria-hidden="true">{marker}{escape(block.tile_title)}{with_owner}</span>'
        f'<span class="appt-time" aria-hidden="true">{when}</span>'
        f'<span class="appt-status" aria-hidden="true">{status}</span>{chip}</a>'
    )


def _with_owner(appointment) -> str:
    """ " with Bob" on an appointment someone else owns (``with_owner``: selectors.appointments_by_member)."""
    owner = getattr(appointment, "with_owner", "")
    return f' <span class="appt-with">with {escape(owner)}</span>' if owner else ""


def _sync_badge(appointment) -> str:
    """``partials/sync_badge.html`` beside an agenda item: synced, waiting or failed (not conflicts)."""
    badge = getattr(appointment, "sync_badge", None)
    if not badge or badge.state == "conflict":
        return ""
    return (
        f' <span class="sync-chip sync-{escape(badge.state)}" title="{escape(badge.detail)}">'
        f"{escape(badge.label)}</span>"
    )


def _busy_title(block) -> str:
    interval = block.item
    return escape(f"Busy in {interval.source}: {interval.label}, {block.time_label}")


def _column_body(column, staff, can_manage: bool, day_label: str) -> str:
    """The inside of one day column: working hours, free slots, busy time, appointments, now."""
    parts = [
        f'<div class="work-band" style="--top: {band.top}; --len: {band.height};"></div>'
        for band in column.working
    ]
    parts += _slots(column, staff, can_manage, day_label)
    for block in column.busy:
        parts.append(
            f'<div class="busy-block" style="--top: {block.top}; --len: {block.height};" '
            f'title="{_busy_title(block)}"><span class="busy-source">{escape(block.item.source)}</span> · '
            f'<span class="busy-label">{escape(block.item.label)}</span></div>'
        )
    edit, detail = pk_url("calendars:appointment_edit"), pk_url("calendars:appointment_detail")
    parts += [_tile(block, can_manage, edit, detail) for block in column.appointments]
    if column.past_minutes:
        parts.append(
            f'<div class="past-shade" style="--top: 0; --len: {column.past_minutes};" '
            'aria-hidden="true"></div>'
        )
    if column.now_top is not None:
        parts.append(
            f'<div class="now-line" style="--top: {column.now_top};" role="img" aria-label="Now"></div>'
        )
    return "\n".join(parts)


def _status_badges(statuses) -> str:
    """A person's connection states (the member-status interface), as badges: the markup of
    ``portal/partials/member_status.html``, for the team day's fifty heads."""
    rows = []
    for status in statuses:
        attention = " needs-attention" if status.needs_attention else ""
        mark = "⚠ " if status.needs_attention else ""
        detail = escape(status.detail)
        rows.append(
            f'<a class="status-badge state-{escape(status.state)}{attention}" href="{escape(status.url)}" '
            f'title="{detail}" aria-label="{detail}">{mark}{escape(status.label)}</a>'
        )
    return "\n".join(rows)


@register.simple_tag
def team_day_heads(grid) -> SafeString:
    """The team day's column heads: each person's name (to their own day) and connection states."""
    week = reverse("calendars:week")
    iso = grid.start_date.isoformat()
    rows = []
    for person in grid.people:
        attention = " needs-attention" if person.needs_attention else ""
        url = escape(f"{week}?staff={person.member.pk}&date={iso}&span=day")
        rows.append(
            f'<div class="week-dayhead team-head{attention}">\n<a class="team-name" href="{url}">'
            f"{escape(person.member.display_name)}</a>\n{_status_badges(person.statuses)}\n</div>"
        )
    return mark_safe("\n".join(rows))


@register.simple_tag
def team_day_columns(grid) -> SafeString:
    """The team day's columns, one per person, each bookable by those who may book for them."""
    label = date_format(grid.start_date, "D j M")
    rows = []
    for person in grid.people:
        column, staff = person.day, person.member
        classes = "week-day team-column" + (" is-today" if column.is_today else "")
        classes += " is-past" if column.is_past else ""
        body = _column_body(column, staff, person.can_book, f"{staff.display_name}, {label}")
        rows.append(
            f'<div class="{classes}" data-date="{column.date.isoformat()}" data-member="{staff.pk}" '
            f'aria-label="{escape(staff.display_name)}" role="group">\n{body}\n</div>'
        )
    return mark_safe("\n".join(rows))


@register.simple_tag
def week_day(column, staff, can_manage: bool, oob: bool = False) -> SafeString:
    """One day column of the week grid with its wrapper; ``id`` lets a change swap just this day
    (``oob``: out of band, ``partials/week_changed_days.html``)."""
    iso = column.date.isoformat()
    classes = "week-day" + (" is-today" if column.is_today else "") + (" is-past" if column.is_past else "")
    swap = ' hx-swap-oob="true"' if oob else ""
    body = _column_body(column, staff, can_manage, date_format(column.date, "D j M"))
    return mark_safe(f'<div class="{classes}" data-date="{iso}" id="week-day-{iso}"{swap}>\n{body}\n</div>')


@register.simple_tag
def week_days(grid, staff, can_manage: bool) -> SafeString:
    """Every day column of the week (or day) grid of ``staff``."""
    return mark_safe("\n".join(week_day(column, staff, can_manage) for column in grid.days))


@register.simple_tag
def agenda_day(column, staff, can_manage: bool, oob: bool = False) -> SafeString:
    """One day of the week as a list (what phones show); ``id`` lets a change swap just this day
    (``oob``: out of band)."""
    iso = column.date.isoformat()
    swap = ' hx-swap-oob="true"' if oob else ""
    classes = "agenda-day" + (" is-today" if column.is_today else "") + (" is-past" if column.is_past else "")
    today = ' <span class="badge">Today</span>' if column.is_today else ""
    items = []
    for block in column.busy:
        items.append(
            f'<li class="busy-block agenda-busy" title="{_busy_title(block)}">'
            f'<span class="agenda-time">{block.time_label}</span> '
            f'<span class="busy-source">{escape(block.item.source)}</span> · '
            f'<span class="busy-label">{escape(block.item.label)}</span></li>'
        )
    pattern = pk_url("calendars:appointment_edit" if can_manage else "calendars:appointment_detail")
    for block in column.appointments:
        appointment = block.item
        url = pattern.format(appointment.pk)
        conflict = " has-conflict" if appointment.has_conflict else ""
        marker = '<span class="conflict-marker">⚠ Conflict</span> ' if appointment.has_conflict else ""
        items.append(
            f'<li><a class="agenda-appt appt{conflict}" href="{url}" hx-get="{url}" hx-target="#modal-body" '
            f'data-appointment="{appointment.pk}"><span class="agenda-time">{block.time_label}</span> '
            f'<span class="appt-title">{marker}{escape(appointment.title)}</span>'
            f"{_with_owner(appointment)}</a>"
            f"{_sync_badge(appointment)}</li>"
        )
    if not column.appointments and not column.busy:
        items.append('<li class="muted small">Nothing booked.</li>')
    book = ""
    if can_manage:
        url = escape(f"{reverse('calendars:appointment_new')}?staff={staff.pk}&date={iso}")
        book = (
            f'<a class="agenda-book" href="{url}" hx-get="{url}" hx-target="#modal-body">'
            f"+ Book {date_format(column.date, 'D j M')}</a>"
        )
    return mark_safe(
        f'<li class="{classes}" data-date="{iso}" id="agenda-day-{iso}"{swap}>'
        f'<h3 class="agenda-date">{date_format(column.date, "l j F")}{today}</h3>'
        f'<ul class="agenda-items">{"".join(items)}</ul>{book}</li>'
    )


@register.simple_tag
def agenda_days(grid, staff, can_manage: bool) -> SafeString:
    """Every day of the week's agenda (``partials/week_agenda.html``)."""
    return mark_safe("\n".join(agenda_day(column, staff, can_manage) for column in grid.days))
