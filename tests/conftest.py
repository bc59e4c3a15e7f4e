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
from projects.models import Membership, Project, Role

pytest_plugins = ["tests.secret_log_watch"]
CAST = ("anonymous", "outsider", "read-only", "member", "deputy", "manager", "operator")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: rate-limit counters (allauth keeps them there) and
    cached token checks must not leak from one test into the next."""
    from django.core.cache import cache

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
