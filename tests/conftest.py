"""Fixtures shared by the suite. The services are real: the test stack (scripts/stack.sh
start test) provides Ceph, PostgreSQL, Redis and the IdP; make test starts it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's guard against ORM use
# from async contexts would fire on the test's own database checks.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


from accounts.models import User
from portal.celery import app as celery_app
from projects.models import Membership, Project, Role
from tests.support.ceph import ceph_release
from tests.support.workers import start_worker, stop_worker

pytest_plugins = ["tests.support.secret_log_watch"]


@pytest.fixture(autouse=True)
def _accounts_need_them(request: pytest.FixtureRequest) -> None:
    """Tests marked ``accounts`` run only where the stack's Ceph has RGW accounts: scripts/test.sh
    leaves them out below 19 (-m "not accounts"), where test_ceph_releases.py asserts by name that
    radosgw refuses accounts (MethodNotAllowed). Run there anyway, they fail saying so: no skip."""
    if request.node.get_closest_marker("accounts") is not None:
        release = ceph_release()
        assert release >= 19, f"RGW accounts need Ceph 19 or later; this stack runs {release} (-m 'not accounts')"


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


@pytest.fixture
def many_device_logins(settings) -> None:  # type: ignore[no-untyped-def]
    """allauth allows 5 device user-code checks a minute per address (against guessing); tests
    approve more than that from 127.0.0.1. Production keeps the default."""
    settings.IDP_OIDC_RATE_LIMITS = {"device_user_code": "1000/m/ip"}


@pytest.fixture
def worker():  # type: ignore[no-untyped-def]
    celery_app.control.purge()  # jobs other tests queued without a worker
    proc = start_worker()
    yield proc
    stop_worker(proc)
