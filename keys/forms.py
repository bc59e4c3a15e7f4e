from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.html import strip_tags


class KeyCreateForm(forms.Form):
    description = forms.CharField(
        label="Key description",
        max_length=settings.LATCHKEY_KEY_DESCRIPTION_MAX,
        help_text="What the key is for, e.g. the job that uses it.",
        error_messages={
            "required": "Describe what the key is for.",
            "max_length": "Keep the description to %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    hours = forms.IntegerField(
        label="Duration (hours)",
        min_value=1,
        max_value=settings.LATCHKEY_KEY_MAX_HOURS,
        help_text=f"1 to {settings.LATCHKEY_KEY_MAX_HOURS} hours; a job's walltime is a good choice.",
        error_messages={
            "required": "Enter a duration in hours.",
            "invalid": "Enter the duration as a whole number of hours.",
            "min_value": "The duration must be at least %(limit_value)s hour.",
            "max_value": "The duration can be at most %(limit_value)s hours.",
        },
    )

    def clean_description(self) -> str:
        value: str = self.cleaned_data["description"].strip()
        if "<" in value or ">" in value or strip_tags(value) != value:
            raise forms.ValidationError("The description cannot contain '<' or '>'.")
        if any(ord(ch) < 32 for ch in value):
            raise forms.ValidationError("The description cannot contain control characters.")
        return value
