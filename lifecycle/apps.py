from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """Flows that cross the domain apps (accounts, projects, keys, buckets) live here."""

    name = "lifecycle"
