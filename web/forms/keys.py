from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from keys.models import AccessKey
from keys.rules import clean_description_text
from keys.scopes import ScopeError, scope_from


def description_field() -> forms.CharField:
    return forms.CharField(
        label="Key description",
        max_length=settings.LATCHKEY_KEY_DESCRIPTION_MAX,
        help_text="What the key is for, e.g. the job that uses it.",
        error_messages={
            "required": "Describe what the key is for.",
            "max_length": "Keep the description to %(limit_value)d characters (it has %(show_value)d).",
        },
    )


def hours_field(label: str = "Duration (hours)") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
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


def endpoint_field() -> forms.ChoiceField:
    """Which S3 endpoint the client configs name (see ``fit_endpoint``)."""
    return forms.ChoiceField(
        label="Endpoint for the client configuration",
        required=False,
        error_messages={"invalid_choice": "Choose one of the listed endpoints."},
    )


def fit_endpoint(form: forms.Form) -> None:
    """The site's endpoints as the choices, read when the form is made; hidden when there is one."""
    field: forms.ChoiceField = form.fields["endpoint"]  # type: ignore[assignment]
    field.choices = [(name, f"{name} ({url})") for name, url in settings.LATCHKEY_S3_ENDPOINTS]
    if len(settings.LATCHKEY_S3_ENDPOINTS) < 2:
        field.widget = forms.HiddenInput()


SCOPE_CHOICES = {
    AccessKey.Scope.MEMBER: "Everything you may do in this project",
    AccessKey.Scope.READ_ONLY: "Read only, every bucket you may read",
    AccessKey.Scope.BUCKETS: "Only the buckets chosen below",
}


class KeyCreateForm(forms.Form):
    """A new key, offering only what the person can have: a read-only member is offered reading
    (their keys are read-only in Ceph whatever they ask), and each bucket box only where they
    may read, or write, that bucket."""

    description = description_field()
    hours = hours_field()
    scope = forms.ChoiceField(
        label="What the key may do",
        initial=AccessKey.Scope.MEMBER,
        required=False,  # absent: the member's own access, as before scopes existed
        widget=forms.RadioSelect,
        help_text="A job that only reads its input needs no more than that: a narrower key does less harm if it leaks.",
        error_messages={"invalid_choice": "Choose one of the listed scopes."},
    )
    read_buckets = forms.MultipleChoiceField(
        label="Buckets the key may read",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "%(value)s is not a bucket you may read in this project."},
    )
    write_buckets = forms.MultipleChoiceField(
        label="Buckets the key may read and write",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only with “Only the buckets chosen below”. The key cannot list or reach any other bucket.",
        error_messages={"invalid_choice": "%(value)s is not a bucket you may write in this project."},
    )
    endpoint = endpoint_field()

    def __init__(
        self,
        *args: Any,
        max_hours: int | None = None,
        reach: Mapping[str, str] | None = None,
        writes: bool = True,
        **kwargs: Any,
    ) -> None:
        """``reach``: each bucket the person may reach, with "read" or "readwrite"; ``writes``:
        whether their role writes at all."""
        super().__init__(*args, **kwargs)
        _limit_hours(self.fields["hours"], max_hours)
        fit_endpoint(self)
        reach = reach or {}
        offered = {
            "read_buckets": [(name, name) for name in reach],
            "write_buckets": [(name, name) for name, level in reach.items() if writes and level == "readwrite"],
        }
        kinds = [AccessKey.Scope.MEMBER] if writes else []
        kinds += [AccessKey.Scope.READ_ONLY] + ([AccessKey.Scope.BUCKETS] if reach else [])
        scope: forms.ChoiceField = self.fields["scope"]  # type: ignore[assignment]
        scope.choices = [(kind, SCOPE_CHOICES[kind]) for kind in kinds]
        scope.initial = kinds[0]
        for name, choices in offered.items():
            # Kept without choices (the page leaves it out): a posted value gets its message.
            self.fields[name].choices = choices  # type: ignore[attr-defined]

    def scope_chosen(self) -> bool:
        """Whether the narrowing part of the form should open: it was used, or has an error."""
        if any(self.has_error(name) for name in ("scope", "read_buckets", "write_buckets")):
            return True
        return self.is_bound and self.data.get("scope", self.fields["scope"].initial) != self.fields["scope"].initial

    def clean_description(self) -> str:
        return clean_description_text(self.cleaned_data["description"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        writes = data.get("write_buckets") or []
        chosen = [(name, "read") for name in data.get("read_buckets") or [] if name not in writes]
        chosen += [(name, "readwrite") for name in writes]
        try:
            data["key_scope"] = scope_from(data.get("scope") or self.fields["scope"].initial, chosen)
        except ScopeError as exc:
            self.add_error("scope", str(exc))
        return data


class KeyExtendForm(forms.Form):
    hours = hours_field("New expiry: hours from now")

    def __init__(self, *args: Any, max_hours: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_hours(self.fields["hours"], max_hours)


class EndpointForm(forms.Form):
    endpoint = endpoint_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fit_endpoint(self)


class KeyEditForm(forms.Form):
    description = description_field()

    def clean_description(self) -> str:
        return clean_description_text(self.cleaned_data["description"])


def _limit_hours(field: forms.Field, max_hours: int | None) -> None:
    """A project may allow less than the site; the field's limit and messages follow it."""
    if max_hours is None or max_hours >= settings.LATCHKEY_KEY_MAX_HOURS:
        return
    assert isinstance(field, forms.IntegerField)
    field.max_value = max_hours
    field.validators = [v for v in field.validators if not isinstance(v, MaxValueValidator)]
    field.validators.append(MaxValueValidator(max_hours))
    field.help_text = f"1 to {max_hours} hours (this project's limit)."
    field.widget.attrs["max"] = str(max_hours)
