from django import forms

from .models import GoogleCalendar


class CalendarChoiceForm(forms.Form):
    """The linked calendar (one, writable) and any number of conflict calendars."""

    linked = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the calendar appointments are written to."},
    )
    conflicts = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, calendars: list[GoogleCalendar], **kwargs):
        super().__init__(*args, **kwargs)
        self.calendars = calendars
        self.fields["linked"].choices = [(c.calendar_id, c.summary) for c in calendars]
        self.fields["conflicts"].choices = [(c.calendar_id, c.summary) for c in calendars]
        linked = next((c for c in calendars if c.is_linked), None)
        if linked is None:
            linked = next((c for c in calendars if c.is_primary and c.is_writable), None)
        self.initial.setdefault("linked", linked.calendar_id if linked else None)
        self.initial.setdefault("conflicts", [c.calendar_id for c in calendars if c.is_conflict])

    def clean_linked(self) -> str:
        value = self.cleaned_data["linked"]
        calendar = next(c for c in self.calendars if c.calendar_id == value)
        if not calendar.is_writable:
            raise forms.ValidationError(
                f"“{calendar.summary}” is shared with you read-only, so appointments cannot be "
                "written there. Choose a calendar you own or can edit."
            )
        return value
