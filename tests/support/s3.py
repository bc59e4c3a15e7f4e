"""Helpers for tests that prove a key against real S3."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError
from django.conf import settings

from storage import client as storage


def s3_error_code(access_key: str, secret_key: str, endpoint: str | None = None) -> str | None:
    """None if the key can list buckets (at ``endpoint``, default the first), else the S3 error
    code Ceph answers with."""
    try:
        storage.s3_client(access_key=access_key, secret_key=secret_key, endpoint=endpoint).list_buckets()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def wait_refused(access_key: str, secret_key: str, timeout: float = 5.0) -> str | None:
    """The error code once S3 refuses the key at every configured endpoint (the test stack runs
    two gateways; a removed key is refused within ~0.05 s at both); None if one still accepts it
    at the timeout. The code is the first endpoint's."""
    deadline = time.monotonic() + timeout
    while True:
        codes = [s3_error_code(access_key, secret_key, url) for _, url in settings.LATCHKEY_S3_ENDPOINTS]
        if all(code is not None for code in codes):
            return codes[0]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
