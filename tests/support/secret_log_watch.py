"""A pytest plugin: every log record the suite writes (any logger, at the configured levels) is
kept, and every secret Ceph issues for a Latchkey key is remembered, so the last test of the run
can look for each secret in each line. Loaded from conftest.py."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

LINES: list[str] = []
SECRETS: set[str] = set()


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is still kept as raw text
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        LINES.append(text)


def pytest_configure(config: pytest.Config) -> None:
    import django

    django.setup()
    logging.getLogger().addHandler(_Keep(level=logging.NOTSET))
    from storage import client as storage

    original = storage.key_create

    def recording(**kwargs: Any) -> str:
        secret = original(**kwargs)
        SECRETS.add(secret)
        return secret

    storage.key_create = recording  # type: ignore[assignment]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The log check runs last, after every other test has written its lines.
    last = [i for i in items if i.name == "test_no_secret_in_any_log_line"]
    items[:] = [i for i in items if i not in last] + last
