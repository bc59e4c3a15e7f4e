from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


# Shown whenever Ceph does not answer during a change; the services guarantee it is true.
STORAGE_DOWN = "The storage service is not answering right now; nothing was changed. Please try again in a minute."
