from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from projects.models import Project
from projects.quota import GB


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
        fields = ["number", "title", "tenant", "max_key_hours", "quota_max_buckets", "quota_max_objects"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.quota_bytes is not None:
            self.initial["quota_gb"] = Decimal(self.instance.quota_bytes) / GB

    @property
    def quota_bytes(self) -> int | None:
        value = self.cleaned_data.get("quota_gb")
        return None if value is None else int(value * GB)
