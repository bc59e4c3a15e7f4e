from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from projects.models import Membership, Project
from projects.services import project_reactivate, project_suspend
from storage.client import StorageError


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ("source", "rgw_access", "status")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "tenant", "status")
    search_fields = ("number", "title", "tenant")
    readonly_fields = ("rgw_provisioned", "status")
    inlines = [MembershipInline]
    actions = ["suspend", "reactivate"]

    @admin.action(description="Suspend: revoke all keys and suspend the Ceph user (data kept)")
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
