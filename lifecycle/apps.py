from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """Flows that cross the domain apps (accounts, projects, keys, buckets) live here."""

    name = "lifecycle"

    def ready(self) -> None:
        from lifecycle import signals  # noqa: F401  (connects the login and deactivation handlers)
