from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from keys.models import AccessKey
from keys.services import LIVE, keys_revoke
from portal.errors import UNAVAILABLE, Unavailable


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    list_display = ("access_key_id", "owner", "project", "scope", "status", "expires_at")
    list_filter = ("status", "scope")
    search_fields = ("access_key_id", "description", "owner__username")
    # The table holds every key ever issued: one count per page (the paginator's), not two.
    show_full_result_count = False
    # Keys change only through keys.services, which keeps Ceph in step.
    readonly_fields = [f.name for f in AccessKey._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # Deleting the row would leave a live key in Ceph that nothing ever expires, and take its
        # history with it: keys end by being revoked (the action below), never by deletion.
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke the selected keys now (removed from Ceph; history kept)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessKey]) -> None:
        live = list(queryset.filter(status__in=LIVE))
        try:
            revoked = keys_revoke(keys=live, reason=f"revoked by operator {request.user}")
        except Unavailable:
            self.message_user(request, UNAVAILABLE, messages.ERROR)
            return
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)
