from __future__ import annotations

from django.db import models

from projects.models import Project


class Bucket(models.Model):
    """A project's bucket as Ceph last reported it (refreshed with the project's usage)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=63)
    size_bytes = models.BigIntegerField(default=0)
    object_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="bucket_name_per_project")]

    def __str__(self) -> str:
        return f"{self.project.tenant}:{self.name}"
