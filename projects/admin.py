from django.contrib import admin

from projects.models import Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ("source", "rgw_access", "status")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "tenant", "status")
    search_fields = ("number", "title", "tenant")
    readonly_fields = ("rgw_provisioned",)
    inlines = [MembershipInline]
