from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from storage.homes import Home


class Role(models.TextChoices):
    # Ordered from most to least privileged; see ROLE_RANK.
    MANAGER = "manager", "Manager"
    DEPUTY = "deputy", "Deputy"
    MEMBER = "member", "Member"
    READ_ONLY = "read-only", "Read-only"


ROLE_RANK = {Role.MANAGER: 3, Role.DEPUTY: 2, Role.MEMBER: 1, Role.READ_ONLY: 0}
# The role sets, defined here only: who manages members, buckets and grants, and who may write.
MANAGING = (Role.MANAGER, Role.DEPUTY)
WRITING = (*MANAGING, Role.MEMBER)
# The longest any key may last, 7 days: LATCHKEY_KEY_MAX_HOURS and each project's key_max_hours
# lie within it (the settings check the same bound).
KEY_HOURS_CEILING = 168
# The Ceph subuser's access level for each role.
ROLE_ACCESS = {Role.MANAGER: "full", Role.DEPUTY: "full", Role.MEMBER: "readwrite", Role.READ_ONLY: "read"}
# Membership.rgw_access of a member whose access level Ceph has not yet taken (a role change it
# refused); lifecycle.memberships.memberships_apply_stale applies it every minute.
ACCESS_STALE = "stale"


USAGE_WARNING_PERCENT = 90


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    number = models.CharField(
        max_length=20, unique=True, validators=[RegexValidator(r"^[0-9]{3,20}$", "digits only, e.g. 462000008")]
    )
    title = models.CharField(max_length=200)
    # RGW tenant names allow letters, digits and '_' only (a hyphen is InvalidTenantName).
    tenant = models.CharField(
        max_length=32, unique=True, validators=[RegexValidator(r"^[A-Za-z0-9_]{1,32}$", "letters, digits and '_' only")]
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Which identity providers may assert memberships of this project (comma-separated ids from
    # LATCHKEY_OIDC_PROVIDERS); empty: any provider whose namespaces and projects admit it.
    asserting_providers = models.CharField(
        max_length=200,
        blank=True,
        default="",
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9_-]{0,39}(,[a-z0-9][a-z0-9_-]{0,39})*$",
                "provider ids separated by commas, e.g. myaccessid,haka",
            )
        ],
        help_text="Providers allowed to assert memberships of this project, e.g. myaccessid,haka. Empty: any "
        "provider trusted for the project's number.",
    )
    rgw_provisioned = models.BooleanField(default=False)
    # Where the project lives in Ceph (storage/homes.py): its tenant, or an RGW account (Ceph 19+)
    # whose id Ceph chooses when the project is provisioned. Fixed once provisioned.
    storage_model = models.CharField(
        max_length=16,
        choices=[("tenant", "RGW tenant"), ("account", "RGW account")],
        default="tenant",
        help_text="RGW tenant (Ceph 16 and later) or RGW account (Ceph 19 and later): each key then carries "
        "its own rights and end, enforced by Ceph. Cannot change once the project exists in Ceph.",
    )
    rgw_account = models.CharField(max_length=20, blank=True, default="")
    # Operators may lower the site's longest key lifetime for one project; never raise it.
    max_key_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(KEY_HOURS_CEILING)]
    )
    # Quota, set by operators and enforced by Ceph on the project user; None means no limit.
    quota_bytes = models.BigIntegerField(null=True, blank=True)
    quota_max_objects = models.BigIntegerField(null=True, blank=True)
    quota_max_buckets = models.IntegerField(null=True, blank=True)
    # Usage as Ceph last reported it (refreshed periodically and on demand), with its time.
    usage_bytes = models.BigIntegerField(null=True, blank=True)
    usage_objects = models.BigIntegerField(null=True, blank=True)
    usage_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def home(self) -> Home:
        return Home(tenant=self.tenant, model=self.storage_model, account=self.rgw_account)

    def admits_provider(self, provider_id: str) -> bool:
        return not self.asserting_providers or provider_id in self.asserting_providers.split(",")

    @property
    def usage_percent(self) -> float | None:
        if not self.quota_bytes or self.usage_bytes is None:
            return None
        return 100.0 * self.usage_bytes / self.quota_bytes

    @property
    def usage_warning(self) -> bool:
        percent = self.usage_percent
        return percent is not None and percent >= USAGE_WARNING_PERCENT

    @property
    def key_max_hours(self) -> int:
        site = int(settings.LATCHKEY_KEY_MAX_HOURS)
        return min(site, self.max_key_hours) if self.max_key_hours else site


class Membership(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        # Ended in Latchkey, but its keys or subuser are still being removed from Ceph.
        ENDING = "ending", "Ending"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Where the membership comes from: "idp:<provider id>" (the entitlement claim) or "latchkey".
    source = models.CharField(max_length=64, default="latchkey")
    # The access level last applied to the subuser in Ceph; "" until provisioned.
    rgw_access = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project")]
        ordering = ["project__number"]

    def __str__(self) -> str:
        return f"{self.user} in {self.project.number} ({self.role})"

    @property
    def wanted_access(self) -> str:
        return ROLE_ACCESS[Role(self.role)]


class JoinRequest(models.Model):
    """A user asks to join a project; a manager or deputy decides."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], condition=models.Q(status="pending"), name="one_pending_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.project.number} ({self.status})"


class Invitation(models.Model):
    """A manager invites an e-mail address. Whoever logs in with that address, verified by their
    IdP, sees the invitation on their project list and accepts or declines it there: no token
    travels in a link."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"  # not answered within LATCHKEY_INVITATION_DAYS

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "email"], condition=models.Q(status="pending"), name="one_pending_invitation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to {self.project.number}"
