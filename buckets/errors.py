"""The one refusal of the buckets app: buckets, grants, groups and key links raise it with a
message meant for the person who asked (and the form field it concerns); pages show it on the
field, the API answers 400 naming it (portal.errors.Refused)."""

from __future__ import annotations

from portal.errors import Refused


class BucketError(Refused):
    """A change to a bucket, grant or group that cannot be made."""
