from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

CLI_CLIENT_ID = "latchkey-cli"


def ensure_cli_client(**_: Any) -> None:
    """The `latchkey` CLI's client at Latchkey's own OpenID provider: public (a login node cannot
    keep a client secret), device authorization grant plus refresh tokens, no redirect URIs.
    Made after every migrate (and after a test database flush), so it always exists."""
    from allauth.idp.oidc.models import Client

    Client.objects.update_or_create(
        id=CLI_CLIENT_ID,
        defaults={
            "name": "Latchkey command line",
            "secret": "",
            "type": Client.Type.PUBLIC,
            "scopes": "openid\nprofile",
            "default_scopes": "openid\nprofile",
            "grant_types": f"{Client.GrantType.DEVICE_CODE}\n{Client.GrantType.REFRESH_TOKEN}",
            "response_types": "code",
            "skip_consent": False,
        },
    )


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"

    def ready(self) -> None:
        from django.apps import apps

        from api import schema  # noqa: F401  (registers the schema's security schemes)

        # Sent once per app with models; this app has none, so hang it on the provider's app.
        post_migrate.connect(ensure_cli_client, sender=apps.get_app_config("allauth_idp_oidc"))
