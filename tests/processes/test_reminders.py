"""Expiry reminders through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from keys.reminders import keys_send_reminders
from keys.services import key_extend
from lifecycle.keys import key_create

pytestmark = [pytest.mark.ceph, pytest.mark.django_db]
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(settings):  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.LATCHKEY_REMINDER_HOURS = [24, 1]
    yield handler
    controller.stop()


def test_reminders_24h_and_1h_before_expiry_each_sent_once(inbox, project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    membership.user.email = "owner@example.org"
    membership.user.save()
    issued = key_create(membership=membership, hours=30, description="nightly sync", now=T0)

    assert keys_send_reminders(now=T0 + timedelta(hours=5, minutes=59))["sent"] == 0
    assert keys_send_reminders(now=T0 + timedelta(hours=6))["sent"] == 1
    assert keys_send_reminders(now=T0 + timedelta(hours=7))["sent"] == 0  # once
    assert keys_send_reminders(now=T0 + timedelta(hours=29))["sent"] == 1
    assert keys_send_reminders(now=T0 + timedelta(hours=29, minutes=30))["sent"] == 0

    first, second = inbox.messages
    assert first["To"] == "owner@example.org"
    assert "less than 24 hours" in first["Subject"] and "less than 1 hour" in second["Subject"]
    body = first.get_payload()
    assert "nightly sync" in body and issued.key.access_key_id in body
    assert f"/projects/{project.number}/keys/{issued.key.access_key_id}/" in body
    assert issued.secret not in body


def test_extension_rearms_the_reminders(inbox, project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    membership.user.email = "owner@example.org"
    membership.user.save()
    issued = key_create(membership=membership, hours=30, description="k", now=T0)
    assert keys_send_reminders(now=T0 + timedelta(hours=6))["sent"] == 1
    key_extend(key=issued.key, hours=48, actor=membership.user, now=T0 + timedelta(hours=7))
    assert keys_send_reminders(now=T0 + timedelta(hours=8))["sent"] == 0
    assert keys_send_reminders(now=T0 + timedelta(hours=31))["sent"] == 1  # 24 h before the new expiry
    assert len(inbox.messages) == 2


def test_short_keys_get_only_the_reminders_shorter_than_their_life(inbox, project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    membership.user.email = "owner@example.org"
    membership.user.save()
    key_create(membership=membership, hours=2, description="short job", now=T0)
    assert keys_send_reminders(now=T0 + timedelta(minutes=1))["sent"] == 0  # no "24 h left" at birth
    assert keys_send_reminders(now=T0 + timedelta(hours=1))["sent"] == 1
    assert "less than 1 hour" in inbox.messages[0]["Subject"]


def test_unreachable_mail_server_retries_later(settings, project, member_of) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
    settings.LATCHKEY_REMINDER_HOURS = [24, 1]
    membership = member_of(project)
    membership.user.email = "owner@example.org"
    membership.user.save()
    key_create(membership=membership, hours=30, description="k", now=T0)
    assert keys_send_reminders(now=T0 + timedelta(hours=6)) == {"sent": 0, "failed": 1}
    assert keys_send_reminders(now=T0 + timedelta(hours=6))["failed"] == 1  # still due, not lost
