from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lifecycle.memberships import membership_end, membership_set_role, project_set_asserting_providers, project_suspend
from portal.errors import Unavailable as StorageError
from projects.models import Membership, Project
from projects.quota import project_set_quota
from projects.services import project_reactivate, storage_model_for_new
from web.forms.projects import ProjectAdminForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ("source", "rgw_access", "status")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectAdminForm
    list_display = ("number", "title", "tenant", "status", "quota_bytes", "usage_bytes", "usage_at")
    search_fields = ("number", "title", "tenant")
    readonly_fields = ("rgw_provisioned", "status", "usage_bytes", "usage_objects", "usage_at")
    fields = (
        "number",
        "title",
        "tenant",
        "status",
        "max_key_hours",
        "asserting_providers",
        "quota_gb",
        "quota_max_buckets",
        "quota_max_objects",
        "usage_bytes",
        "usage_objects",
        "usage_at",
        "storage_model",
        "rgw_account",
        "rgw_provisioned",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> tuple[str, ...]:
        fixed = ("storage_model",) if obj is not None and obj.rgw_provisioned else ()
        return (*self.readonly_fields, "rgw_account", *fixed)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        initial = super().get_changeform_initial_data(request)
        try:
            return {**initial, "storage_model": storage_model_for_new()}
        except StorageError:  # "auto" could not ask Ceph: the operator chooses, nothing is preselected
            messages.warning(
                request,
                "The storage service could not be asked whether it has RGW accounts: choose the storage model.",
            )
            return {**initial, "storage_model": ""}

    def save_model(self, request: HttpRequest, obj: Project, form: ProjectAdminForm, change: bool) -> None:
        # The quota goes through the service, which applies it in Ceph before recording it.
        super().save_model(request, obj, form, change)
        if change and "asserting_providers" in form.changed_data:
            ended = project_set_asserting_providers(project=obj, providers=obj.asserting_providers)
            if ended:
                self.message_user(
                    request,
                    f"{ended} memberships from providers no longer allowed were ended and their keys revoked.",
                    messages.WARNING,
                )
        try:
            below = project_set_quota(
                project=obj,
                quota_bytes=form.quota_bytes,
                max_objects=form.cleaned_data.get("quota_max_objects"),
                max_buckets=form.cleaned_data.get("quota_max_buckets"),
            )
        except StorageError as exc:
            self.message_user(request, f"The quota was not changed: {exc}. Try again.", messages.ERROR)
            return
        if below:
            self.message_user(
                request,
                "The quota is below the project's current use: uploads are refused until data is removed.",
                messages.WARNING,
            )

    inlines = [MembershipInline]
    actions = ["suspend", "reactivate"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Membership edits go through the services: a removal revokes the member's keys and
        removes their subuser, a role change reaches the subuser's access in Ceph."""
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            try:
                membership_end(membership=Membership.objects.select_related("project", "user").get(pk=membership.pk))
            except StorageError as exc:
                self.message_user(
                    request, f"{membership.user}: removal not finished ({exc}); it is retried.", messages.ERROR
                )
        for membership in instances:
            if membership.pk is None:
                membership.source = "latchkey"
                membership.save()
            else:
                current = Membership.objects.select_related("project", "user").get(pk=membership.pk)
                membership_set_role(membership=current, role=membership.role)

    def suspend(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project in queryset:
            try:
                project_suspend(project=project)
            except StorageError as exc:
                self.message_user(request, f"{project.number}: {exc}; run the action again", messages.ERROR)

    @admin.action(description="Reactivate")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project in queryset:
            try:
                project_reactivate(project=project)
            except StorageError as exc:
                self.message_user(request, f"{project.number}: {exc}", messages.ERROR)
