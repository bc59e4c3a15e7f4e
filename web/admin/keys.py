from django.contrib import admin

from keys.models import AccessKey


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    list_display = ("access_key_id", "owner", "project", "scope", "status", "expires_at")
    list_filter = ("status", "scope")
    search_fields = ("access_key_id", "description", "owner__username")
    # The table holds every key ever issued: one count per page (the paginator's), not two.
    show_full_result_count = False
    # Keys change only through keys.services, which keeps Ceph in step.
    readonly_fields = [f.name for f in AccessKey._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
