"""Forms of the appointment book: they validate and convert; services write."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator

from copilot.accounts.models import Membership, Practice
from copilot.accounts.selectors import practice_members
from patients.models import Patient
from patients.selectors import patients_search
from patients.services import PatientDetails

from .limits import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE, NOTES_MAX_LENGTH, date_in_range
from .models import Appointment, AppointmentType, WorkingHours
from .services import Overrides, derived_title
from .staff_picker import member_search
from .timezones import format_long_date, local_to_aware

# The services name the model's fields; the form asks for a date and two times.
_SERVICE_TO_FORM_FIELD = {"start": "start_time", "end": "end_time"}


class BookDateField(forms.DateField):
    """A date inside the book's range (``limits``); anything else is a field error, never an overflow."""

    def __init__(self, **kwargs):
        bounds = {"min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()}
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date", **bounds}))
        super().__init__(**kwargs)

    def validate(self, value) -> None:
        super().validate(value)
        if value is not None and not date_in_range(value):
            raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


class Time24Input(forms.TimeInput):
    """HH:MM on a 24-hour clock, as the grid shows it, whatever the browser's language.

    ``<input type="time">`` is drawn in the operating system's locale (AM/PM in en-US Chrome), so this
    is a text input with a pattern and a numeric keyboard on phones; it needs no JavaScript.
    """

    input_type = "text"

    def __init__(self, attrs=None):
        defaults = {
            "inputmode": "numeric",
            "pattern": "([01]?[0-9]|2[0-3])[:.][0-5][0-9]",
            "placeholder": "HH:MM",
            "maxlength": "5",
            "size": "5",
            "autocomplete": "off",
            "class": "time24",
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%H:%M")


class Time24Field(forms.TimeField):
    """A wall-clock time typed as HH:MM (24 h); "9:05" and "09.05" are read too."""

    widget = Time24Input
    input_formats = ["%H:%M", "%H.%M"]
    default_error_messages = {"invalid": "Enter a time on the 24-hour clock as HH:MM, for example 14:30."}


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.display_name


class MemberMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.display_name


def search_field(label: str) -> forms.CharField:
    """A staff picker's search box (``staff_picker``): shown only when the practice is large."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "class": "picker-search"}),
    )


def _submitted(form: forms.Form, name: str, many: bool = False):
    """What ``form`` holds for ``name``: the submitted value if bound, else the initial one."""
    if form.is_bound:
        getlist = getattr(form.data, "getlist", None)
        if many:
            return getlist(name) if getlist else form.data.get(name) or []
        return form.data.get(name)
    value = form.initial.get(name)
    return (value or []) if many else value


def _pk(value):
    return getattr(value, "pk", value)


class AppointmentForm(forms.Form):
    """Book or change an appointment, entered on the practice's wall clock.

    ``cleaned_data`` gains ``start`` and ``end`` (aware) and ``overrides``.
    """

    staff = MemberChoiceField(queryset=Membership.objects.none(), empty_label=None)
    title = forms.CharField(
        max_length=200, required=False, help_text="Empty: type and patient (“Check-up: Lucia Romero”)."
    )
    date = BookDateField()
    start_time = Time24Field(label="Start", help_text="24 h, HH:MM")
    end_time = Time24Field(
        label="End",
        required=False,
        help_text="24 h, HH:MM. Empty: the practice's usual appointment length.",
    )
    assignees = MemberMultipleChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Other staff who take part.",
    )
    location = forms.CharField(max_length=300, required=False)
    notes = forms.CharField(
        required=False,
        max_length=NOTES_MAX_LENGTH,
        error_messages={
            "max_length": f"Notes can be at most {NOTES_MAX_LENGTH:,} characters (they have %(show_value)s)."
        },
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {NOTES_MAX_LENGTH:,} characters (what Google keeps in an event).",
    )
    outside_hours = forms.BooleanField(label="Book outside working hours", required=False)
    busy_time = forms.BooleanField(
        label="Book over busy time (I confirmed with the staff member)", required=False
    )
    # Asked only when the start is in the past (see ``_ask_about_the_past``).
    confirm_past = forms.BooleanField(label="Yes, book it in the past", required=False)
    # --- patient and type (the booking form's patient block; see PatientFieldsMixin) ---
    appointment_type = forms.ModelChoiceField(
        label="Type", queryset=AppointmentType.objects.none(), required=False, empty_label="No type"
    )
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.none(), required=False, widget=forms.HiddenInput
    )
    patient_query = forms.CharField(
        label="Find a patient", max_length=100, required=False, help_text="Name, phone or email."
    )
    new_patient_name = forms.CharField(label="New patient: name", max_length=200, required=False)
    new_patient_email = forms.EmailField(label="Email", required=False)
    new_patient_phone = forms.CharField(label="Phone", max_length=40, required=False)
    # The staff pickers' search boxes (``_bound_staff_pickers``).
    staff_q = search_field("Find staff")
    assignee_q = search_field("Find other staff")

    def __init__(self, *args, actor: Membership, appointment: Appointment | None = None, **kwargs):
        self.actor = actor
        self.practice = actor.practice
        self.appointment = appointment
        if appointment is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(appointment)
        super().__init__(*args, **kwargs)
        members = practice_members(practice=self.practice)
        self.fields["staff"].queryset = members if actor.is_admin else members.filter(pk=actor.pk)
        self.fields["assignees"].queryset = members
        if not actor.is_admin:
            del self.fields["outside_hours"]
            del self.fields["busy_time"]
        self._init_patient_fields()
        self._bound_staff_pickers(members)

    def _init_patient_fields(self) -> None:
        self.fields["appointment_type"].queryset = AppointmentType.objects.filter(
            practice=self.practice, is_active=True
        )
        self.fields["patient"].queryset = Patient.objects.filter(practice=self.practice)
        self.patient_matches: list[Patient] = []

    @property
    def chosen_patient(self) -> Patient | None:
        """The patient the form holds (submitted or initial), for the picker to show checked."""
        value = self["patient"].value()
        if not value:
            return None
        try:
            return self.fields["patient"].queryset.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None

    # --- staff pickers: at most PICKER_LIMIT people each, whatever the practice's size -----------

    def _bound_staff_pickers(self, members) -> None:
        """Offer in the staff and assignee pickers only who matches their search boxes, plus who is
        chosen (``staff_picker``), read when the form is drawn: a POST that saves reads no one.
        Validation still accepts anyone in the practice (the fields' querysets)."""
        self._members, self._picked = members, None
        pickers = ("staff", "assignees") if self.actor.is_admin else ("assignees",)
        for name in pickers:
            self.fields[name].widget.choices = CallableChoiceIterator(partial(self._picker_choices, name))

    def _pickers(self) -> dict[str, tuple[list, bool]]:
        if self._picked is None:
            staff, assignees = _submitted(self, "staff"), _submitted(self, "assignees", many=True)
            staff_q, assignee_q = _submitted(self, "staff_q") or "", _submitted(self, "assignee_q") or ""
            keep_staff, keep_assignees = [_pk(staff)], [_pk(a) for a in assignees]
            if not staff_q and not assignee_q:  # one read serves both pickers
                shared = member_search(self._members, keep=keep_staff + keep_assignees)
                self._picked = {"staff": shared, "assignees": shared}
            else:
                self._picked = {
                    "staff": member_search(self._members, staff_q, keep=keep_staff),
                    "assignees": member_search(self._members, assignee_q, keep=keep_assignees),
                }
        return self._picked

    def _picker_choices(self, name: str) -> list[tuple[int, str]]:
        return [(member.pk, member.display_name) for member in self._pickers()[name][0]]

    @property
    def staff_search_shown(self) -> bool:
        return self.actor.is_admin and self._pickers()["staff"][1]

    @property
    def assignee_search_shown(self) -> bool:
        return self._pickers()["assignees"][1]

    @staticmethod
    def initial_from_query(query) -> dict:
        """The form's values as the "Find" button sends them (a GET of the form), to show it again."""
        names = (
            "staff",
            "title",
            "date",
            "start_time",
            "end_time",
            "location",
            "notes",
            "staff_q",
            "assignee_q",
        )
        initial = {name: query.get(name) for name in names if query.get(name) is not None}
        initial["assignees"] = query.getlist("assignees")
        return initial

    @staticmethod
    def initial_for(appointment: Appointment) -> dict:
        zone = appointment.practice.zone
        start, end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
        return {
            "staff": appointment.staff_id,
            "assignees": list(appointment.assignees.values_list("pk", flat=True)),
            "date": start.date(),
            "start_time": start.time(),
            "end_time": end.time(),
            "location": appointment.location,
            "notes": appointment.notes,
            "patient": appointment.patient_id,
            "appointment_type": appointment.appointment_type_id,
            # A derived title is derived again, so choosing another patient renames the appointment.
            "title": (
                ""
                if appointment.title == derived_title(appointment.appointment_type, appointment.patient)
                else appointment.title
            ),
        }

    @property
    def admin_fields(self) -> list:
        return [self[name] for name in ("outside_hours", "busy_time") if name in self.fields]

    def clean(self) -> dict:
        data = super().clean()
        day, start_time = data.get("date"), data.get("start_time")
        if day is None or start_time is None:
            return data
        zone = self.practice.zone
        try:
            start = local_to_aware(datetime.combine(day, start_time), zone)
        except ValidationError as exc:
            self.add_error("start_time", exc)
            return data
        self._clean_patient(data)
        end_time = data.get("end_time")
        appointment_type = data.get("appointment_type")
        if end_time is None and appointment_type is not None:
            end = start + timedelta(minutes=appointment_type.duration_minutes)
        elif end_time is None:
            end = start + timedelta(minutes=self.practice.default_appointment_minutes)
        else:
            try:
                end = local_to_aware(datetime.combine(day, end_time), zone)
            except ValidationError as exc:
                self.add_error("end_time", exc)
                return data
            if end <= start:
                self.add_error("end_time", "The end must be after the start.")
                return data
        data["start"], data["end"] = start, end
        staff = data.get("staff")
        data["assignees"] = [m for m in data.get("assignees") or [] if m != staff]
        data["overrides"] = Overrides(
            outside_hours=bool(data.get("outside_hours")), busy_time=bool(data.get("busy_time"))
        )
        self._ask_about_the_past(start)
        return data

    # --- booking in the past: a question, answered by ticking ``confirm_past`` and saving again ---

    asks_past_confirmation = False

    def _ask_about_the_past(self, start: datetime) -> None:
        """A start in the past (a typo'd year, usually) needs a second, explicit yes.

        Asked for new bookings and for moves into the past; editing the title of an appointment
        that already happened asks nothing.
        """
        if start >= timezone.now() or self.cleaned_data.get("confirm_past"):
            return
        if self.appointment is not None and self.appointment.start == start:
            return
        self.asks_past_confirmation = True
        local_day = start.astimezone(self.practice.zone).date()
        self.add_error(
            None, ValidationError(f"This is in the past: {format_long_date(local_day)}. Book anyway?")
        )

    def _clean_patient(self, data: dict) -> None:
        """An existing patient, or a new one typed inline; a search without a choice shows matches."""
        patient, name = data.get("patient"), (data.get("new_patient_name") or "").strip()
        data["new_patient"] = None
        if patient is not None and name:
            self.add_error("new_patient_name", "Choose an existing patient or enter a new one, not both.")
        elif name:
            data["new_patient"] = PatientDetails(
                name=name,
                email=data.get("new_patient_email") or "",
                phone=data.get("new_patient_phone") or "",
            )
        elif patient is None and (data.get("patient_query") or "").strip():
            self.patient_matches = patients_search(practice=self.practice, query=data["patient_query"])
            found = "Choose the patient below" if self.patient_matches else "No patient matches"
            self.add_error("patient", f"{found}, or enter a new patient.")
        if not (data.get("title") or data.get("appointment_type") or patient or name):
            self.add_error("title", "Give a title, or choose a type or a patient.")

    def service_fields(self) -> dict:
        """The cleaned values as the booking services take them."""
        data = self.cleaned_data
        names = ("staff", "title", "start", "end", "location", "notes", "assignees")
        fields = {name: data[name] for name in names}
        fields.update(patient=data.get("patient"), appointment_type=data.get("appointment_type"))
        if data.get("new_patient") is not None:
            fields["new_patient"] = data["new_patient"]
        return fields

    def add_booking_error(self, error: ValidationError) -> None:
        """Show a service's refusal on the field it concerns."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            field = _SERVICE_TO_FORM_FIELD.get(name, name)
            self.add_error(field if field in self.fields else None, errors)


class TeamFilterForm(forms.Form):
    """Whom to show on the team views (ticked: shown). Nobody ticked shows everyone."""

    show = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Show"
    )

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["show"].choices = [(m.pk, m.display_name) for m in members]


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200, required=False, label="Reason (optional)", help_text="Kept in the history."
    )


class AppointmentFilterForm(forms.Form):
    """The list view's filters. Empty dates mean: from today, for 30 days."""

    STATUS_CHOICES = [("", "Any status"), *Appointment.Status.choices]

    staff = MemberChoiceField(queryset=Membership.objects.none(), required=False, empty_label="All staff")
    staff_q = search_field("Find staff")
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    date_from = BookDateField(label="From", required=False)
    date_to = BookDateField(label="To", required=False)

    def __init__(self, *args, practice, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        members = practice_members(practice=practice, include_inactive=True)
        self.fields["staff"].queryset = members
        # At most PICKER_LIMIT people offered, whatever the practice's size (``staff_picker``).
        shown, self.staff_search_shown = member_search(
            members, _submitted(self, "staff_q") or "", keep=[_pk(_submitted(self, "staff"))]
        )
        self.fields["staff"].widget.choices = [("", "All staff"), *((m.pk, m.display_name) for m in shown)]

    def clean(self) -> dict:
        data = super().clean()
        if self.has_error("date_from") or self.has_error("date_to"):
            return data
        if data.get("date_from") is None:
            data["date_from"] = self.today
        if data.get("date_to") is None:
            data["date_to"] = data["date_from"] + timedelta(days=30)
        if data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end of the range must not be before its start.")
        return data


class WorkingHoursForm(forms.Form):
    """A working week: for each weekday, up to two intervals on the practice's wall clock."""

    INTERVALS = 2

    def __init__(self, *args, hours: dict[int, list[tuple[time, time]]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        hours = hours or {}
        self.days = []
        for weekday, day_name in WorkingHours.Weekday.choices:
            day_fields = []
            existing = hours.get(weekday, [])
            for index in range(self.INTERVALS):
                pair = []
                for part in ("start", "end"):
                    name = f"d{weekday}_{part}{index}"
                    initial = existing[index][0 if part == "start" else 1] if index < len(existing) else None
                    self.fields[name] = Time24Field(
                        label=f"{day_name.title()} {part} {index + 1}", required=False, initial=initial
                    )
                    pair.append(name)
                day_fields.append(pair)
            self.days.append((weekday, day_name.title(), day_fields))

    def bound_days(self) -> list[tuple[str, list[tuple]]]:
        """For the template: (day name, [(start field, end field), ...])."""
        return [(name, [(self[s], self[e]) for s, e in pairs]) for _, name, pairs in self.days]

    def clean(self) -> dict:
        data = super().clean()
        intervals = []
        for weekday, _, pairs in self.days:
            previous_end = None
            for start_name, end_name in pairs:
                start, end = data.get(start_name), data.get(end_name)
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.add_error(start_name if start is None else end_name, "Give both a start and an end.")
                    continue
                if end <= start:
                    self.add_error(end_name, "The end must be after the start.")
                    continue
                if previous_end is not None and start < previous_end:
                    self.add_error(start_name, "The second interval must start after the first ends.")
                    continue
                previous_end = end
                intervals.append((weekday, start, end))
        data["intervals"] = intervals
        return data


# --- appointment types (Settings › Appointment types) --------------------------------------------


class AppointmentTypeForm(forms.ModelForm):
    """An appointment type; ``staff`` offered only from the practice's active members."""

    staff = MemberMultipleChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Who offers this type (and can be booked for it online).",
    )

    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "colour",
            "staff",
            "bookable_online",
            "min_notice_minutes",
            "horizon_days",
            "location",
            "is_active",
        ]
        labels = {"duration_minutes": "Length (minutes)", "is_active": "In use"}

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.practice = practice
        self.fields["staff"].queryset = practice_members(practice=practice)


class InboxFilterForm(forms.Form):
    """Changes from Google: whose calendar, and unread only or everything."""

    staff = MemberChoiceField(queryset=Membership.objects.none(), required=False, empty_label="All staff")
    show = forms.ChoiceField(choices=[("unread", "Not yet handled"), ("all", "All changes")], required=False)

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = practice_members(practice=practice, include_inactive=True)


class GoogleDeletionForm(forms.Form):
    """The practice's answer to an event of an appointment deleted in Google."""

    policy = forms.ChoiceField(
        label="When someone deletes an appointment's event in Google",
        choices=Practice.GoogleDeletion.choices,
        widget=forms.RadioSelect,
    )
