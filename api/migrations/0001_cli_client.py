"""The `latchkey` CLI's client at Latchkey's own OpenID provider: public (a login node cannot
keep a client secret), device authorization grant plus refresh tokens, no redirect URIs."""

from django.db import migrations

CLIENT_ID = "latchkey-cli"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    Client = apps.get_model("allauth_idp_oidc", "Client")
    Client.objects.update_or_create(
        id=CLIENT_ID,
        defaults={
            "name": "Latchkey command line",
            "secret": "",
            "type": "public",
            "scopes": "openid\nprofile",
            "default_scopes": "openid\nprofile",
            "grant_types": "urn:ietf:params:oauth:grant-type:device_code\nrefresh_token",
            "response_types": "code",
            "skip_consent": False,
        },
    )


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("allauth_idp_oidc", "Client").objects.filter(id=CLIENT_ID).delete()


class Migration(migrations.Migration):
    dependencies = [("allauth_idp_oidc", "0003_client_allow_uri_wildcards")]
    operations = [migrations.RunPython(create, remove)]
