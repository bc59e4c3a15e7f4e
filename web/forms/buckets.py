"""Forms parse what people type; the services decide whether it is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from buckets.grants import GrantRequest
from buckets.links import MAX_HOURS as LINK_MAX_HOURS
from buckets.models import Access, Bucket, Grant, Group
from buckets.selectors import groups_of
from keys.models import AccessKey
from projects.models import Project
from projects.selectors import active_members


def _member_choices(project: Project) -> list[tuple[int, str]]:
    return [(m.pk, m.user.get_full_name() or m.user.username) for m in active_members(project)]


class BucketCreateForm(forms.Form):
    name = forms.CharField(
        label="Bucket name",
        max_length=63,
        help_text="3 to 63 characters: lowercase letters, digits, hyphens and dots.",
        error_messages={
            "required": "Enter a name for the bucket.",
            "max_length": "A bucket name is at most 63 characters (it has %(show_value)d).",
        },
    )


class MembersAccessForm(forms.Form):
    members_access = forms.ChoiceField(
        label="The project's own members",
        choices=Bucket.MembersAccess.choices,
        widget=forms.RadioSelect,
        help_text="Managers and deputies always keep their access.",
        error_messages={"required": "Choose one option.", "invalid_choice": "Choose one of the listed options."},
    )


class GrantForm(forms.Form):
    kind = forms.ChoiceField(
        label="Who",
        choices=Grant.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who the grant is for.",
            "invalid_choice": "Choose one of the listed options.",
        },
    )
    access = forms.ChoiceField(
        label="Access",
        choices=Access.choices,
        initial=Access.READ,
        help_text="The public can only ever read.",
        error_messages={"invalid_choice": "Choose read-only or read and write."},
    )
    member = forms.TypedChoiceField(
        label="Member (for a member of this project)", coerce=int, required=False, empty_value=None
    )
    group = forms.TypedChoiceField(
        label="Group (for a group of this project)", coerce=int, required=False, empty_value=None
    )
    project_number = forms.CharField(
        label="Project number (for another project or its user)", max_length=20, required=False
    )
    user = forms.CharField(
        label="User name or e-mail address (for one user of another project)", max_length=254, required=False
    )
    cidrs = forms.CharField(
        label="Only from these addresses (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="IP addresses or CIDR ranges, e.g. 192.0.2.0/24, one per line.",
    )
    expires_at = forms.DateTimeField(
        label=f"Until (optional, {settings.TIME_ZONE})",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        error_messages={"invalid": "Enter a date and time, e.g. 2026-12-31 18:00."},
    )
    confirm_public = forms.BooleanField(
        label="I understand that a public grant lets anyone on the internet list and download everything in "
        "this bucket, without a key.",
        required=False,
    )

    def __init__(self, *args: Any, bucket: Bucket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member_field: forms.TypedChoiceField = self.fields["member"]  # type: ignore[assignment]
        member_field.choices = [("", "—"), *_member_choices(bucket.project)]
        group_field: forms.TypedChoiceField = self.fields["group"]  # type: ignore[assignment]
        group_field.choices = [("", "—")] + [(g.pk, g.name) for g in groups_of(bucket.project)]

    def grant_request(self) -> GrantRequest:
        data = self.cleaned_data
        return GrantRequest(
            kind=data["kind"],
            access=data.get("access") or Access.READ,
            member_id=data.get("member"),
            group_id=data.get("group"),
            project_number=data.get("project_number") or "",
            user=data.get("user") or "",
            cidrs=[data.get("cidrs") or ""],
            expires_at=data.get("expires_at"),
            public_confirmed=bool(data.get("confirm_public")),
        )


class GroupForm(forms.Form):
    name = forms.CharField(
        label="Group name",
        max_length=64,
        error_messages={
            "required": "Enter a name for the group.",
            "max_length": "A group name is at most 64 characters.",
        },
    )


class GroupMembersForm(forms.Form):
    members = forms.TypedMultipleChoiceField(
        label="Members",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose members of this project only."},
    )

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedMultipleChoiceField = self.fields["members"]  # type: ignore[assignment]
        field.choices = _member_choices(group.project)


class LinkForm(forms.Form):
    key = forms.ChoiceField(
        label="Sign with your key", error_messages={"invalid_choice": "Choose one of your active keys."}
    )
    object_key = forms.CharField(
        label="Object name",
        max_length=1024,
        help_text="The object's full name (key) in the bucket.",
        error_messages={"required": "Enter the object's name."},
    )
    hours = forms.IntegerField(
        label="Valid for (hours)",
        min_value=1,
        max_value=LINK_MAX_HOURS,
        initial=24,
        error_messages={
            "required": "Enter how many hours the link should work.",
            "invalid": "Enter a whole number of hours.",
            "min_value": "A link works for at least %(limit_value)s hour.",
            "max_value": "A link works for at most %(limit_value)s hours (7 days).",
        },
    )

    def __init__(self, *args: Any, keys: list[AccessKey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.ChoiceField = self.fields["key"]  # type: ignore[assignment]
        field.choices = [(k.access_key_id, f"{k.access_key_id} ({k.description})") for k in keys]

    def clean_object_key(self) -> str:
        value: str = self.cleaned_data["object_key"]
        if any(ord(ch) < 32 for ch in value):
            raise forms.ValidationError("An object name cannot contain control characters.")
        return value
