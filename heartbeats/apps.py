from django.apps import AppConfig


class HeartbeatsConfig(AppConfig):
    name = "heartbeats"
