"""Template tags of the time grids: the free-slot links of a day column, built in Python.

A team day of 50 people has 1,300 slots; rendered through the template language each costs a dozen
variable lookups, so the page spends most of its time there. This tag writes the same markup.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def slot_links(column, staff, can_manage: bool, day_label: str):
    """Each slot of ``column``: a link that books ``staff`` from its time, or a mark where the clocks
    skip that time. Without ``can_manage`` only the skipped times are drawn."""
    iso = column.date.isoformat()
    new_url = reverse("calendars:appointment_new")
    rows = []
    for slot in column.slots:
        if not slot.exists:
            rows.append(
                format_html(
                    '<div class="slot-gap" style="--top: {}; --len: {};" '
                    'title="{} does not exist this day: the clocks go forward."></div>',
                    slot.top,
                    slot.height,
                    slot.label,
                )
            )
        elif can_manage:
            url = f"{new_url}?staff={staff.pk}&date={iso}&start={slot.label}"
            rows.append(
                format_html(
                    '<a class="slot" style="--top: {}; --len: {};" href="{}" hx-get="{}" '
                    'hx-target="#modal-body" aria-label="Book {} {}">+ {}</a>',
                    slot.top,
                    slot.height,
                    url,
                    url,
                    day_label,
                    slot.label,
                    slot.label,
                )
            )
    return format_html_join("\n", "{}", ((row,) for row in rows))


@register.simple_tag
def appointment_tile(block, can_manage: bool):
    """One appointment in a time grid: as much of the title as fits, the full title on hover
    (``title``) and in the accessible name; short tiles put the patient first (``Block.tile_title``).
    Opens the edit form for those who may change it, else the details."""
    appointment = block.item
    name = "calendars:appointment_edit" if can_manage else "calendars:appointment_detail"
    url = reverse(name, args=[appointment.pk])
    classes = ["appt"]
    if appointment.appointment_type_id:  # colour by type (a class: no colour in a style attribute)
        classes.append(f"type-{appointment.appointment_type.colour}")
    for flag, css in (
        (appointment.has_conflict, "has-conflict"),
        (block.continues_before, "continues-before"),
        (block.continues_after, "continues-after"),
        (block.is_short, "is-short"),
    ):
        if flag:
            classes.append(css)
    conflict = "Conflict: " if appointment.has_conflict else ""
    marker = mark_safe('<span class="conflict-marker">⚠ Conflict</span> ') if appointment.has_conflict else ""
    status = appointment.get_status_display() + (" · Online" if appointment.booked_online else "")
    sync = getattr(appointment, "sync_badge", None)  # views.attach_badges; conflicts have their marker
    chip, sync_words = "", ""
    if sync is not None and sync.state != "conflict":
        chip = format_html(
            '<span class="sync-chip sync-{}" aria-hidden="true">{}</span>', sync.state, sync.label
        )
        sync_words = f", {sync.label}"
    return format_html(
        '<a class="{}" style="--top: {}; --len: {}; --lane: {}; --lanes: {};" href="{}" hx-get="{}" '
        'hx-target="#modal-body" data-appointment="{}" title="{}, {}" aria-label="{}{}, {}, {}{}">'
        '<span class="appt-title" aria-hidden="true">{}{}</span>'
        '<span class="appt-time" aria-hidden="true">{}</span>'
        '<span class="appt-status" aria-hidden="true">{}</span>{}</a>',
        " ".join(classes),
        block.top,
        block.height,
        block.lane,
        block.lanes,
        url,
        url,
        appointment.pk,
        appointment.title,
        block.time_label,
        conflict,
        appointment.title,
        block.time_label,
        status,
        sync_words,
        marker,
        block.tile_title,
        block.time_label,
        status,
        chip,
    )
