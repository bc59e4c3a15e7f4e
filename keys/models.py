from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Project


class AccessKey(models.Model):
    """An S3 key issued on a member's subuser. The secret is never stored: Ceph holds it."""

    class Status(models.TextChoices):
        # Recorded before the Ceph call, so a crash in between leaves a trace the sweep cleans up.
        PENDING = "pending", "Being created"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Deleted"

    class Scope(models.TextChoices):
        # What the key may do, within what its owner may do (keys/scopes.py, buckets/scoped_keys.py).
        MEMBER = "member", "The member's access"
        READ_ONLY = "read-only", "Read-only, whole project"
        BUCKETS = "buckets", "Chosen buckets only"

    access_key_id = models.CharField(max_length=20, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="access_keys")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_keys")
    subuser = models.CharField(max_length=32, blank=True)  # the owner's rgw_name when the key was made; "" if scoped
    description = models.CharField(max_length=200)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.MEMBER)
    # Whether the scope itself allows any write (member: yes; read-only: no; buckets: if one is
    # read-write). Ceph's floor for the key is this and the owner's role (op-mask).
    scope_writes = models.BooleanField(default=True)
    # A scoped key is the one key of its own RGW user "T$<rgw_user>" in the project's tenant,
    # granted only by bucket policies; member keys ("") live on the member's subuser.
    rgw_user = models.CharField(max_length=32, blank=True, default="")
    # On a project whose keys carry their own rights (RGW accounts, storage/homes.py): the rights
    # last written into the key's policy, without its end (storage.identity.rights_json), so an
    # extension rewrites the policy with only the end changed. Empty for other keys.
    rights = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # When S3 was seen refusing the key at every endpoint (LATCHKEY_VERIFY_REVOCATION), else empty.
    refused_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=64, blank=True, default="")
    last_extended_at = models.DateTimeField(null=True, blank=True)
    # The expiry an exact-time job is queued for; a different value (an extension) needs a new job.
    expiry_job_for = models.DateTimeField(null=True, blank=True)
    # The smallest reminder threshold (hours before expiry) already e-mailed; reset by extension.
    reminded_hours = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="key_status_expiry"),
            models.Index(fields=["owner", "project", "status"], name="key_owner_project"),
            # The newest first (the admin's key list, scanned backwards): without it, a page of
            # 100 keys sorts every key.
            models.Index(fields=["created_at", "id"], name="key_created"),
        ]

    def __str__(self) -> str:
        return f"{self.access_key_id} ({self.description})"


class KeyEvent(models.Model):
    """The audit log of keys: who did what, when, from where. Never holds a secret."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        EXTEND = "extend", "Extended"
        SET_EXPIRY = "set-expiry", "End set by an operator"
        EDIT = "edit", "Description changed"
        REVEAL = "reveal", "Secret revealed"
        DELETE = "delete", "Deleted"
        EXPIRE = "expire", "Expired"
        REVOKE = "revoke", "Revoked"

    at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices)
    key = models.ForeignKey(AccessKey, on_delete=models.CASCADE, related_name="events")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="key_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )  # None: Latchkey
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["project", "at"], name="keyevent_project_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.key_id}"
