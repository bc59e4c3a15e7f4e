from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "rgw_name", "is_staff", "is_active")
    readonly_fields = ("rgw_name",)
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Ceph", {"fields": ("rgw_name",)}))
