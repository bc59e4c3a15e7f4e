from __future__ import annotations

from django.conf import settings
from django.db import models

from keys.models import AccessKey
from projects.models import Membership, Project


class Access(models.TextChoices):
    READ = "read", "Read-only"
    READWRITE = "readwrite", "Read and write"


class Bucket(models.Model):
    """A project's bucket as Ceph last reported it (refreshed with the project's usage), with
    the rule for the project's own members. The rule and the bucket's grants are the source of
    truth for the Latchkey statements in the bucket's policy."""

    class MembersAccess(models.TextChoices):
        READWRITE = "readwrite", "All members, by their role"
        READ = "read", "All members, read-only"
        NONE = "none", "Only selected members and groups (restricted)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=63)
    size_bytes = models.BigIntegerField(default=0)
    object_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(null=True, blank=True)
    # Managers and deputies always keep their access; this narrows everyone else's.
    members_access = models.CharField(max_length=16, choices=MembersAccess.choices, default=MembersAccess.READWRITE)
    # Set when something the policy depends on changed and Ceph has not been told yet.
    policy_dirty = models.BooleanField(default=False)
    policy_synced_at = models.DateTimeField(null=True, blank=True)
    # People's statements the last policy write left out because the storage service would
    # refuse them ({"statement", "reason", "at"}), shown to the bucket's managers until dismissed.
    policy_left_out = models.JSONField(default=list, blank=True)
    # Set when a manager or deputy of the project stops being one: people's statements in this
    # bucket's policy are left out at its next write (buckets.sync.people_statements_end).
    drop_people_statements = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="bucket_name_per_project")]

    def __str__(self) -> str:
        return f"{self.project.tenant}:{self.name}"

    @property
    def outside_name(self) -> str:
        """How keys of other projects name this bucket (``T:name``, or ``:name`` in an account)."""
        return self.project.home.address(self.name)


class Group(models.Model):
    """A named set of a project's members, kept in Latchkey; grants can name it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=64)
    members = models.ManyToManyField(Membership, blank=True, related_name="bucket_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="group_name_per_project")]

    def __str__(self) -> str:
        return f"{self.project.number}/{self.name}"


class Grant(models.Model):
    class Kind(models.TextChoices):
        MEMBER = "member", "A member of this project"
        GROUP = "group", "A group of this project"
        PROJECT = "project", "Another project, all its members"
        PROJECT_USER = "project_user", "One user of another project"
        PUBLIC = "public", "The public (anonymous read)"

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="grants")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.READ)
    member = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    grantee_project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    grantee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The grantee's subuser name in the other project, fixed when the grant is made.
    grantee_subuser = models.CharField(max_length=64, blank=True, default="")
    cidrs = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.access} on {self.bucket}"

    @property
    def grantee_label(self) -> str:
        if self.kind == self.Kind.MEMBER and self.member is not None:
            user = self.member.user
            return user.get_full_name() or user.username
        if self.kind == self.Kind.GROUP and self.group is not None:
            return f"group {self.group.name}"
        if self.kind == self.Kind.PROJECT and self.grantee_project is not None:
            return f"project {self.grantee_project.number}"
        if self.kind == self.Kind.PROJECT_USER and self.grantee_project is not None and self.grantee_user is not None:
            user = self.grantee_user
            return f"{user.get_full_name() or user.username} of project {self.grantee_project.number}"
        return "the public"


class KeyBucket(models.Model):
    """A bucket a bucket-scoped key may reach, and how. The key is its own RGW user, granted by
    a statement in this bucket's policy (buckets/policy.py) and by nothing else, so a bucket made
    after the key is out of its reach. Deleting the bucket's row deletes this one."""

    key = models.ForeignKey(AccessKey, on_delete=models.CASCADE, related_name="scope_buckets")
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="scoped_keys")
    access = models.CharField(max_length=16, choices=Access.choices)

    class Meta:
        ordering = ["bucket__name"]
        constraints = [models.UniqueConstraint(fields=["key", "bucket"], name="key_bucket_once")]

    def __str__(self) -> str:
        return f"{self.bucket.name}:{self.access}"
