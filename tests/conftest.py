"""Fixtures shared by the suite. The services are real: the test stack (scripts/stack.sh
start test) provides Ceph, PostgreSQL, Redis and the IdP; make test starts it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's guard against ORM use
# from async contexts would fire on the test's own database checks.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.conf import settings

from accounts.models import User
from portal.celery import app as celery_app
from projects.models import Membership, Project, Role

pytest_plugins = ["tests.secret_log_watch"]
CAST = ("anonymous", "outsider", "read-only", "member", "deputy", "manager", "operator")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: rate-limit counters (ours and allauth's) and cached
    token checks must not leak from one test into the next. The cache is on the stack's Redis
    (portal/cache.py); clear() removes only Latchkey's keys there. A test that stopped Redis
    leaves the cache counting in memory for a few seconds; the next test asks Redis at once."""
    from django.core.cache import cache, caches

    from portal.cache import SharedCache

    for backend in caches.all(initialized_only=True):
        if isinstance(backend, SharedCache):
            backend._down_until = 0.0
    cache.clear()


@pytest.fixture
def unique() -> Callable[[], str]:
    """Fresh project numbers: Ceph outlives each test's database, so tenants must not repeat."""

    def make() -> str:
        return "9" + "".join(secrets.choice("0123456789") for _ in range(10))

    return make


@pytest.fixture
def project(db: None, unique: Callable[[], str]) -> Project:
    number = unique()
    return Project.objects.create(number=number, title=f"Test project {number}", tenant=f"t{number}")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, **extra: object) -> User:
        return User.objects.create_user(username=f"{username}-{secrets.token_hex(3)}", **extra)  # type: ignore[arg-type]

    return make


@pytest.fixture
def member_of(make_user: Callable[..., User]) -> Callable[..., Membership]:
    def make(project: Project, role: Role = Role.MEMBER, username: str = "member") -> Membership:
        return Membership.objects.create(user=make_user(username), project=project, role=role)

    return make


@pytest.fixture
def cast(project: Project, make_user: Callable[..., User]) -> dict[str, User | None]:
    """The fixed cast every view is tested with, around ``project``."""
    people: dict[str, User | None] = {"anonymous": None, "outsider": make_user("outsider")}
    for role in (Role.READ_ONLY, Role.MEMBER, Role.DEPUTY, Role.MANAGER):
        user = make_user(role.value)
        Membership.objects.create(user=user, project=project, role=role)
        people[role.value] = user
    people["operator"] = make_user("operator", is_staff=True, is_superuser=True)
    return people


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def many_device_logins(settings) -> None:  # type: ignore[no-untyped-def]
    """allauth allows 5 device user-code checks a minute per address (against guessing); tests
    approve more than that from 127.0.0.1. Production keeps the default."""
    settings.IDP_OIDC_RATE_LIMITS = {"device_user_code": "1000/m/ip"}


def subprocess_database_url() -> str:
    """This test's database (pytest-django's test_<name>, not the real one), for other processes."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A real Celery worker process on the test stack's Redis and this test's database."""
    env = {**os.environ, "LATCHKEY_DATABASE_URL": subprocess_database_url(), **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "--without-mingle",
         "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def sweep_until_expired(worker: subprocess.Popen[str], key_pk: int, timeout: float = 60) -> None:
    """Send the expiry sweep (what beat sends every minute) and wait until ``worker`` has
    expired the key: in the database, and so already removed from Ceph."""
    from keys.models import AccessKey
    from keys.tasks import keys_sweep_task

    keys_sweep_task.delay()
    deadline = time.monotonic() + timeout
    while AccessKey.objects.get(pk=key_pk).status != AccessKey.Status.EXPIRED:
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else "the worker stopped"
        assert time.monotonic() < deadline, "the worker did not run the sweep"
        time.sleep(0.2)


def stop_worker(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def worker():  # type: ignore[no-untyped-def]
    celery_app.control.purge()  # jobs other tests queued without a worker
    proc = start_worker()
    yield proc
    stop_worker(proc)
