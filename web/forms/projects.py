from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from keys.rules import clean_description_text
from projects.models import Project, Role
from projects.quota import GB
from projects.selectors import open_project


class ProjectAdminForm(forms.ModelForm):
    """Operators set the quota in GB; Latchkey stores bytes and applies them in Ceph."""

    quota_gb = forms.DecimalField(
        label="Quota (GB)",
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=3,
        help_text="Empty: no limit. 1 GB = 10^9 bytes. Below the current use is allowed (uploads stop) but flagged.",
        error_messages={"min_value": "The quota cannot be negative.", "invalid": "Enter the quota as a number of GB."},
    )

    quota_max_buckets = forms.IntegerField(
        label="Max buckets", required=False, min_value=0, error_messages={"min_value": "Cannot be negative."}
    )
    quota_max_objects = forms.IntegerField(
        label="Max objects", required=False, min_value=0, error_messages={"min_value": "Cannot be negative."}
    )

    class Meta:
        model = Project
        # The quota fields are not saved by the form: the admin applies them through the
        # quota service, which changes Ceph before the database.
        fields = ["number", "title", "tenant", "max_key_hours", "asserting_providers"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.fields.get("storage_model")
        if model is not None and self.instance.pk is None and self.initial.get("storage_model") == "":
            # Nothing chosen for the operator (the admin could not ask Ceph): a blank first
            # choice, which the required field refuses, rather than the model's default.
            choices = list(Project._meta.get_field("storage_model").choices or [])
            model.choices = [("", "— choose —"), *choices]  # type: ignore[attr-defined]
        if self.instance.rgw_provisioned and "tenant" in self.fields:
            # The tenant names the Ceph user that owns the buckets and holds every key: renaming it
            # here would point Latchkey at another (or no) Ceph user. A disabled field ignores
            # whatever is posted for it.
            self.fields["tenant"].disabled = True
            self.fields["tenant"].help_text = "Fixed: the project exists in Ceph under this tenant."
        if self.instance.pk:
            if self.instance.quota_bytes is not None:
                self.initial["quota_gb"] = Decimal(self.instance.quota_bytes) / GB
            self.initial["quota_max_buckets"] = self.instance.quota_max_buckets
            self.initial["quota_max_objects"] = self.instance.quota_max_objects

    def clean_asserting_providers(self) -> str:
        value = self.cleaned_data["asserting_providers"].strip()
        unknown = sorted(set(filter(None, value.split(","))) - set(settings.LATCHKEY_PROVIDER_TRUST))
        if unknown:
            raise forms.ValidationError(f"Not a configured provider: {', '.join(unknown)}.")
        return value

    @property
    def quota_bytes(self) -> int | None:
        value = self.cleaned_data.get("quota_gb")
        return None if value is None else int(value * GB)


class JoinRequestForm(forms.Form):
    number = forms.RegexField(
        label="Project number",
        regex=r"^[0-9]{3,20}$",
        error_messages={"required": "Enter the project number.", "invalid": "A project number has digits only."},
    )
    reason = forms.CharField(
        label="Why you need access",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Tell the managers why you need access.",
            "max_length": "Keep it to %(limit_value)d characters (it has %(show_value)d).",
        },
    )

    def clean_reason(self) -> str:
        return clean_description_text(self.cleaned_data["reason"].replace("\n", " ").replace("\r", " "))

    def clean_number(self) -> Project | None:
        # None for a number with no active project: the page answers as for one that exists,
        # so that the form does not tell outsiders which project numbers are in use.
        return open_project(self.cleaned_data["number"])


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices, error_messages={"invalid_choice": "Unknown role."})


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        error_messages={"required": "Enter an e-mail address.", "invalid": "Enter a valid e-mail address."},
    )
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, initial=Role.MEMBER, error_messages={"invalid_choice": "Unknown role."}
    )
