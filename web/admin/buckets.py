from django.contrib import admin

from buckets.models import Bucket, Grant, Group


class ReadOnly(admin.ModelAdmin):
    """Buckets, grants and groups change only through buckets.services and buckets.grants, which
    keep the policies in Ceph in step; operators read them here."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Bucket)
class BucketAdmin(ReadOnly):
    list_display = ("name", "project", "members_access", "size_bytes", "object_count", "policy_dirty")
    list_filter = ("members_access", "policy_dirty")
    search_fields = ("name", "project__number")


@admin.register(Grant)
class GrantAdmin(ReadOnly):
    list_display = ("bucket", "kind", "access", "expires_at", "created_by", "created_at")
    list_filter = ("kind", "access")


@admin.register(Group)
class GroupAdmin(ReadOnly):
    list_display = ("name", "project", "created_at")
