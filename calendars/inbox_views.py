"""Changes from Google: the practice's inbox page, Keep and Undo, and the deletion policy setting.

Every member of a practice reads its inbox (the front desk works it); Keep and Undo follow the
book's editing rule (admins any appointment, staff their own). The deletion policy is for admins.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from copilot.accounts.access import can_manage_member, current_admin, current_membership
from copilot.accounts.models import Membership
from copilot.accounts.services import practice_google_deletion_set

from . import services
from .forms import GoogleDeletionForm, InboxFilterForm
from .inbox import inbox_item_differences, inbox_item_for_member, inbox_items, inbox_unread_count
from .models import InboxItem


def _item_or_404(membership: Membership, pk: int) -> InboxItem:
    try:
        return inbox_item_for_member(membership=membership, pk=pk)
    except InboxItem.DoesNotExist as exc:
        raise Http404("No such change.") from exc


def _managed_item_or_404(membership: Membership, pk: int) -> InboxItem:
    item = _item_or_404(membership, pk)
    if not can_manage_member(membership, item.staff):
        raise Http404("No such change.")
    return item


def _row(actor: Membership, item: InboxItem) -> dict:
    return {
        "item": item,
        "differences": inbox_item_differences(item, actor.practice.zone),
        "can_act": can_manage_member(actor, item.staff),
    }


@require_safe
def changes(request: HttpRequest) -> HttpResponse:
    """Calendars → Changes from Google: newest first, unread first to the eye; filter by staff member."""
    actor = current_membership(request)
    practice = actor.practice
    form = InboxFilterForm(request.GET or None, practice=practice)
    staff = form.cleaned_data["staff"] if form.is_valid() else None
    show_all = form.is_valid() and form.cleaned_data["show"] == "all"
    items = inbox_items(practice=practice, staff=staff)
    if not show_all:
        items = items.filter(read_at__isnull=True)
    rows = [_row(actor, item) for item in items[:100]]
    context = {
        "form": form,
        "rows": rows,
        "show_all": show_all,
        "unread": inbox_unread_count(practice=practice),
        "section": "calendars",
    }
    return render(request, "calendars/changes.html", context)


def _item_response(
    request: HttpRequest, actor: Membership, item: InboxItem, notice: str, *, error: bool = False
) -> HttpResponse:
    """htmx: the line again, with what happened; a plain POST: back to the inbox with a message."""
    if request.htmx:
        item.refresh_from_db()
        context = {"row": _row(actor, item), "notice": notice, "notice_error": error}
        return render(request, "calendars/partials/change_item.html", context)
    (messages.error if error else messages.success)(request, notice)
    return redirect("calendars:changes")


@require_POST
def change_keep(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep: the change stays; the line is marked read."""
    actor = current_membership(request)
    item = _managed_item_or_404(actor, pk)
    services.inbox_item_keep(item=item, actor=request.user)
    return _item_response(request, actor, item, "Kept the change from Google.")


@require_POST
def change_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo: the appointment goes back to how it was; the push tells Google (safe to click twice)."""
    actor = current_membership(request)
    item = _managed_item_or_404(actor, pk)
    try:
        services.inbox_item_undo(item=item, actor=request.user)
    except services.BookingError as exc:
        return _item_response(request, actor, item, "Not undone: " + " ".join(exc.messages), error=True)
    return _item_response(request, actor, item, "Undone: Google will show the appointment as it was.")


@require_http_methods(["GET", "HEAD", "POST"])
def google_deletion_setting(request: HttpRequest) -> HttpResponse:
    """Settings → Sync: what a deletion in Google does to the appointment (practice admins)."""
    actor = current_admin(request)
    practice = actor.practice
    form = GoogleDeletionForm(request.POST or None, initial={"policy": practice.google_deletion})
    if request.method == "POST" and form.is_valid():
        practice_google_deletion_set(practice=practice, policy=form.cleaned_data["policy"])
        messages.success(request, "Saved what a deletion in Google does.")
        return redirect("calendars:google_deletion_setting")
    return render(request, "calendars/google_deletion.html", {"form": form, "section": "settings"})
