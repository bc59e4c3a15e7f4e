"""The Django admin, registered here (Django imports ``web.admin``) rather than in each app, so
the domain apps import no page code."""

from web.admin import accounts, buckets, keys, projects  # noqa: F401
