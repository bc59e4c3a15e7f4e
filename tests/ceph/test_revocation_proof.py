"""LATCHKEY_VERIFY_REVOCATION: the expiry path proves each removal by S3 itself, at every
configured endpoint (the test stack's two gateways), before it records the key as ended; a key
S3 still accepts is an alarm and stays active, so the next sweep removes it again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client import REGISTRY

from keys.expiry import key_expire, keys_sweep
from keys.models import AccessKey
from lifecycle.keys import key_create
from storage import client as storage
from tests.support.metrics import metric_value
from tests.support.s3 import s3_error_code

pytestmark = [pytest.mark.ceph, pytest.mark.django_db]
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def verify(settings) -> list[str]:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_VERIFY_REVOCATION = True
    settings.LATCHKEY_VERIFY_REVOCATION_ENDPOINTS = [url for _, url in settings.LATCHKEY_S3_ENDPOINTS]
    assert len(settings.LATCHKEY_VERIFY_REVOCATION_ENDPOINTS) == 2  # the stack's two gateways
    return list(settings.LATCHKEY_VERIFY_REVOCATION_ENDPOINTS)


def _proofs() -> float:
    return REGISTRY.get_sample_value("latchkey_revocation_proof_seconds_count") or 0.0


def test_an_expired_key_is_recorded_only_once_both_gateways_refuse_it(project, member_of, verify) -> None:  # type: ignore[no-untyped-def]
    issued = key_create(membership=member_of(project), hours=1, description="proven", now=T0)
    for url in verify:
        assert s3_error_code(issued.key.access_key_id, issued.secret, url) is None  # works at both
    before = _proofs()
    assert key_expire(key_id=issued.key.pk, now=T0 + timedelta(hours=1))
    row = AccessKey.objects.get(pk=issued.key.pk)
    assert row.status == AccessKey.Status.EXPIRED and row.refused_at is not None
    assert _proofs() == before + 1
    # Already refused when the row was written: no waiting here.
    assert {s3_error_code(issued.key.access_key_id, issued.secret, url) for url in verify} == {"InvalidAccessKeyId"}
    text = Client().get("/metrics").content.decode()
    assert metric_value(text, "latchkey_revocation_proof_seconds_count") >= 1


def test_a_key_s3_still_accepts_is_an_alarm_and_stays_active(  # type: ignore[no-untyped-def]
    project, member_of, verify, monkeypatch, caplog
) -> None:
    """A Ceph that answers the removal but keeps the key (the removal is a stand-in; S3's
    acceptance of the key afterwards is real)."""
    issued = key_create(membership=member_of(project), hours=1, description="kept by Ceph", now=T0)
    real_remove = storage.key_remove
    monkeypatch.setattr(storage, "key_remove", lambda **kwargs: None)
    caplog.set_level(logging.ERROR, logger="storage.client")
    counted = REGISTRY.get_sample_value("latchkey_revocation_unproven_total", {"endpoint": verify[1]}) or 0.0
    result = keys_sweep(now=T0 + timedelta(hours=1, seconds=5))
    assert result["failed"] == 1 and result["expired"] == 0
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.ACTIVE
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None  # indeed still accepted
    assert f"S3 still accepts key {issued.key.access_key_id}" in caplog.text
    assert issued.secret not in caplog.text
    assert REGISTRY.get_sample_value("latchkey_revocation_unproven_total", {"endpoint": verify[1]}) == counted + 1

    monkeypatch.setattr(storage, "key_remove", real_remove)  # Ceph works again: the next sweep ends it
    assert keys_sweep(now=T0 + timedelta(hours=1, seconds=65))["expired"] == 1
    assert {s3_error_code(issued.key.access_key_id, issued.secret, url) for url in verify} == {"InvalidAccessKeyId"}


def test_without_the_setting_no_secret_is_read_at_removal(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert settings.LATCHKEY_VERIFY_REVOCATION is False  # the default
    issued = key_create(membership=member_of(project), hours=1, description="plain", now=T0)
    read: list[str] = []
    monkeypatch.setattr(storage, "key_secret", lambda **kwargs: read.append(kwargs["access_key"]))
    assert key_expire(key_id=issued.key.pk, now=T0 + timedelta(hours=1))
    assert read == [] and AccessKey.objects.get(pk=issued.key.pk).refused_at is None
