from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from api import device_login
from portal import health, metrics


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Looked up per request: the static files' manifest may not exist yet when URLs are loaded.
    return HttpResponseRedirect(static("favicon.svg"))


# What fails outside a view's own handling: a database outage is a 503, and the API answers JSON.
handler500 = "web.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="projects:list", permanent=False)),
    # Browsers ask for /favicon.ico on pages that name no icon (the Django admin's, a JSON answer).
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("accounts/", include("allauth.urls")),
    # Latchkey's own OpenID provider, the CLI's device login; two of its views wrapped (same
    # paths, listed first) to carry the approving login's auth_time to the token it issues.
    path("identity/o/device", device_login.device_authorization),
    path("identity/o/api/token", device_login.token),
    path("", include("allauth.idp.urls")),
    path("api/v1/", include("api.urls")),
    path("projects/", include("web.urls.keys")),
    path("projects/", include("web.urls.buckets")),
    path("projects/", include("web.urls.projects")),
    path("operators/", include("web.urls.operators")),
]
