"""Helpers for tests that prove a key against real S3."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from storage import client as storage


def s3_error_code(access_key: str, secret_key: str) -> str | None:
    """None if the key can list buckets, else the S3 error code Ceph answers with."""
    try:
        storage.s3_client(access_key=access_key, secret_key=secret_key).list_buckets()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def wait_refused(access_key: str, secret_key: str, timeout: float = 5.0) -> str | None:
    """The error code once Ceph refuses the key (a removed key is refused within ~0.05 s)."""
    deadline = time.monotonic() + timeout
    while True:
        code = s3_error_code(access_key, secret_key)
        if code is not None or time.monotonic() > deadline:
            return code
        time.sleep(0.05)
