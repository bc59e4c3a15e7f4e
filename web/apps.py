from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web pages and the Django admin: adapters over the domain apps and lifecycle/."""

    name = "web"
