from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from accounts.models import UpstreamGrant, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "rgw_name", "is_staff", "is_active")
    readonly_fields = ("rgw_name",)
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Ceph", {"fields": ("rgw_name",)}))


@admin.register(UpstreamGrant)
class UpstreamGrantAdmin(admin.ModelAdmin):
    """Who can be re-checked without a login, and how the last re-check went. The sealed token
    is never shown; deleting a row only stops re-checks for that account until its next login."""

    list_display = ("account", "stored_at", "checked_at", "outcome", "detail")
    list_filter = ("account__provider", "outcome")
    fields = ("account", "stored_at", "checked_at", "outcome", "detail")
    readonly_fields = fields
    search_fields = ("account__user__username", "account__uid")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
