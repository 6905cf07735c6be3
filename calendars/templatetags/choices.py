"""``{% checkbox_list field %}``: a multiple-choice field's checkboxes, the markup of Django's
``CheckboxSelectMultiple``, written in one pass of Python.

Django renders each option through three templates; with a practice's whole team as options (the
team views' "Show" filter) that was a tenth of the page's time. ``portal/partials/field.html`` draws
every such field with it.
"""

from __future__ import annotations

from html import escape

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def checkbox_list(field: BoundField) -> SafeString:
    """The checkboxes of ``field`` (its choices, ticked by its value), as Django's widget draws them."""
    ticked = {str(getattr(value, "pk", value)) for value in field.value() or ()}
    base, name = escape(field.auto_id), escape(field.html_name)
    rows = []
    for index, (value, label) in enumerate(field.field.widget.choices):  # what the widget would offer
        checked = " checked" if str(value) in ticked else ""
        rows.append(
            f'<div>\n    <label for="{base}_{index}"><input type="checkbox" name="{name}" '
            f'value="{escape(str(value))}" id="{base}_{index}"{checked}>\n {escape(str(label))}'
            "</label>\n\n</div>"
        )
    return mark_safe(f'<div id="{base}">\n' + "\n  \n    ".join(rows) + "\n</div>")
