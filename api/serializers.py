"""What the API accepts and returns. Inputs are strictly typed (a number where a number is due);
the rules a person meets on the web pages (description text, hour limits, endpoints) are the
same functions here, and the services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from buckets.models import Access, Bucket, Grant
from buckets.selectors import key_scope_buckets
from keys.models import AccessKey
from keys.rules import clean_description_text
from keys.scopes import KeyScope, ScopeError, scope_from
from usage.selectors import RANGES


def _description() -> serializers.CharField:
    return serializers.CharField(max_length=settings.LATCHKEY_KEY_DESCRIPTION_MAX, trim_whitespace=True)


def _validate_description(value: str) -> str:
    try:
        return clean_description_text(value)
    except forms.ValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class HoursField(serializers.IntegerField):
    """1..the project's limit (``max_hours`` in the serializer's context)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=settings.LATCHKEY_KEY_MAX_HOURS, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):  # JSON true is not a number of hours
            self.fail("invalid")
        value = int(super().to_internal_value(data))
        site = settings.LATCHKEY_KEY_MAX_HOURS  # a project's key_max_hours, given in the context, is lower
        limit = int(self.parent.context.get("max_hours", site)) if self.parent else site
        if value > limit:
            raise serializers.ValidationError(f"The duration can be at most {limit} hours.")
        return value


class EndpointField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[], required=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        names = [name for name, _ in settings.LATCHKEY_S3_ENDPOINTS]
        if not isinstance(data, str) or data not in names:
            raise serializers.ValidationError(f"Choose one of the endpoints: {', '.join(names)}.")
        return data


class BucketScopeIn(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    access = serializers.ChoiceField(choices=Access.choices, default=Access.READ)


class ScopeIn(serializers.Serializer):
    """A key's scope, as the API takes it and gives it back (schema only: ScopeField parses)."""

    kind = serializers.ChoiceField(choices=AccessKey.Scope.choices, default=AccessKey.Scope.MEMBER)
    buckets = BucketScopeIn(many=True, required=False)


def _bucket_entry(entry: object) -> bool:
    """One entry of a scope's buckets: {"name": str, "access": str}, access optional."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and isinstance(entry.get("access", "read"), str)
        and not set(entry) - {"name", "access"}
    )


@extend_schema_field(ScopeIn)
class ScopeField(serializers.Field):
    """``{"kind": "member" | "read-only" | "buckets", "buckets": [{"name": ..., "access": "read" |
    "readwrite"}]}``; absent: the member's own access. Every wrong shape is a field error."""

    # Doubled braces: DRF formats these messages.
    default_error_messages = {"shape": 'Give {{"kind": ..., "buckets": [{{"name": ..., "access": ...}}]}}.'}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data: Any) -> KeyScope:
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("kind", "member"), str)
            or set(data) - {"kind", "buckets"}
        ):
            self.fail("shape")
        buckets = data.get("buckets", [])
        if not isinstance(buckets, list) or not all(_bucket_entry(b) for b in buckets):
            self.fail("shape")
        try:
            return scope_from(data.get("kind", "member"), [(b["name"], b.get("access", "read")) for b in buckets])
        except ScopeError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Any) -> dict[str, Any]:
        return scope_out(value)


def scope_out(key: AccessKey) -> dict[str, Any]:
    if key.scope != AccessKey.Scope.BUCKETS:
        return {"kind": key.scope}
    return {"kind": key.scope, "buckets": [{"name": n, "access": a} for n, a in key_scope_buckets(key)]}


class KeyCreateIn(serializers.Serializer):
    description = _description()
    hours = HoursField()
    endpoint = EndpointField()
    scope = ScopeField()

    def validate_description(self, value: str) -> str:
        return _validate_description(value)


class KeyExtendIn(serializers.Serializer):
    hours = HoursField()


class KeyEditIn(serializers.Serializer):
    description = _description()

    def validate_description(self, value: str) -> str:
        return _validate_description(value)


class RevealIn(serializers.Serializer):
    endpoint = EndpointField()


class ProjectOut(serializers.Serializer):
    number = serializers.CharField(source="project.number")
    title = serializers.CharField(source="project.title")
    role = serializers.CharField()
    quota_bytes = serializers.IntegerField(source="project.quota_bytes", allow_null=True)
    quota_max_buckets = serializers.IntegerField(source="project.quota_max_buckets", allow_null=True)
    quota_max_objects = serializers.IntegerField(source="project.quota_max_objects", allow_null=True)
    usage_bytes = serializers.IntegerField(source="project.usage_bytes", allow_null=True)
    usage_objects = serializers.IntegerField(source="project.usage_objects", allow_null=True)
    usage_at = serializers.DateTimeField(source="project.usage_at", allow_null=True)
    key_max_hours = serializers.IntegerField(source="project.key_max_hours")
    tenant = serializers.CharField(source="project.tenant")


class UsagePointOut(serializers.Serializer):
    time = serializers.DateTimeField()
    bucket = serializers.CharField(allow_null=True, help_text="The bucket; null for the project as a whole.")
    bytes = serializers.IntegerField()
    objects = serializers.IntegerField()


class UsageOut(serializers.Serializer):
    project = serializers.CharField()
    range = serializers.ChoiceField(choices=list(RANGES))
    start = serializers.DateTimeField(help_text="The range holds the points after this time ...")
    end = serializers.DateTimeField(help_text="... up to this one, the time of the request.")
    quota_bytes = serializers.IntegerField(allow_null=True)
    points = UsagePointOut(
        many=True,
        help_text="Every stored point of the range, as in the web CSV: by bucket (the project first), then time.",
    )


class KeyOut(serializers.ModelSerializer):
    project = serializers.CharField(source="project.number")
    scope = serializers.SerializerMethodField()

    class Meta:
        model = AccessKey
        fields = [
            "access_key_id",
            "project",
            "description",
            "status",
            "scope",
            "created_at",
            "expires_at",
            "last_extended_at",
        ]

    @extend_schema_field(ScopeIn)
    def get_scope(self, key: AccessKey) -> dict[str, Any]:
        return scope_out(key)


class ConfigOut(serializers.Serializer):
    client = serializers.CharField()
    title = serializers.CharField()
    filename = serializers.CharField()
    where = serializers.CharField()
    content = serializers.CharField()


class SecretOut(serializers.Serializer):
    key = KeyOut()
    secret_key = serializers.CharField()
    endpoint = serializers.CharField()
    region = serializers.CharField()
    configs = ConfigOut(many=True)


class GrantOut(serializers.ModelSerializer):
    grantee = serializers.CharField(source="grantee_label")

    class Meta:
        model = Grant
        fields = ["id", "kind", "access", "grantee", "cidrs", "expires_at", "created_at"]


class BucketOut(serializers.ModelSerializer):
    summary = serializers.CharField()
    grants = GrantOut(many=True, source="live_grants")

    class Meta:
        model = Bucket
        fields = [
            "name",
            "size_bytes",
            "object_count",
            "created_at",
            "members_access",
            "summary",
            "grants",
            "policy_dirty",
        ]


class BucketCreateIn(serializers.Serializer):
    name = serializers.CharField(max_length=63)


class MembersAccessIn(serializers.Serializer):
    members_access = serializers.ChoiceField(choices=Bucket.MembersAccess.choices)


class GrantIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Grant.Kind.choices)
    access = serializers.ChoiceField(choices=Access.choices, default=Access.READ)
    member = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    group = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    project_number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    user = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")
    cidrs = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20, default=list
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    confirm_public = serializers.BooleanField(required=False, default=False)
