"""The soak's users: one thread per person, acting through gunicorn over the REST API with
their browser session (and its CSRF token), as the pages' own scripts would. Each operation's
HTTP status and time are recorded; the checker judges them against the fault windows.

Operations: create a key (6 in 10 are then given a 20-60 s expiry in the database, as the tests
and benches do, so keys end throughout the run), extend one, delete one, list keys, and for
managers grant a member access to the restricted bucket or revoke such a grant (each rewrites
that bucket's policy in Ceph). Secrets returned by the API are kept in memory only, for the
prober."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from django.db import close_old_connections
from django.utils import timezone
from harness import err
from soak_world import Person, World

from keys.expiry import key_set_expiry
from keys.models import AccessKey

LIVE_KEYS_PER_PERSON = 8  # beyond this a person deletes instead of creating


@dataclass(frozen=True)
class Op:
    person: str
    kind: str
    start: float
    end: float
    status: int  # 0: no HTTP answer at all
    detail: str = ""


@dataclass
class Tracked:
    secret: str
    owner: str
    deleted_at: float | None = None  # when the API answered 204 to its deletion


@dataclass
class Registry:
    """Keys the users hold, by access key id (shared with the prober)."""

    keys: dict[str, Tracked] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, access_key: str, secret: str, owner: str) -> None:
        with self.lock:
            self.keys[access_key] = Tracked(secret, owner)

    def items(self) -> list[tuple[str, Tracked]]:
        with self.lock:
            return list(self.keys.items())


class User(threading.Thread):
    def __init__(self, person: Person, world: World, base: str, registry: Registry, until: float, seed: int) -> None:
        super().__init__(name=f"soak-{person.name}", daemon=True)
        self.person, self.world, self.base, self.registry, self.until = person, world, base, registry, until
        self.rng = random.Random(seed)  # noqa: S311 -- a reproducible schedule, not a secret
        self.ops: list[Op] = []
        self.mine: list[str] = []  # access key ids this person made and has not deleted
        self.grants: list[int] = []
        self.http = requests.Session()
        self.http.cookies.set("sessionid", person.session)
        self.api = f"{base}/api/v1/projects/{person.project}"

    def prepare(self) -> None:
        """The CSRF cookie, from the project page (before any fault)."""
        page = self.http.get(f"{self.base}/projects/{self.person.project}/", timeout=30)
        if page.status_code != 200 or "csrftoken" not in self.http.cookies:
            raise SystemExit(f"soak: project page for {self.person.name}: HTTP {page.status_code}")
        self.http.headers["X-CSRFToken"] = self.http.cookies["csrftoken"]

    def _call(self, kind: str, method: str, path: str, body: object = None) -> requests.Response | None:
        start = time.time()
        try:
            response = self.http.request(method, f"{self.api}/{path}", json=body, timeout=30)
        except requests.RequestException as exc:
            self.ops.append(Op(self.person.name, kind, start, time.time(), 0, type(exc).__name__))
            return None
        detail = response.text[:200] if response.status_code >= 400 else ""
        self.ops.append(Op(self.person.name, kind, start, time.time(), response.status_code, detail))
        return response

    def run(self) -> None:
        while time.time() < self.until:
            time.sleep(self.rng.uniform(0.8, 2.5))
            roll = self.rng.random()
            try:
                if roll < 0.4:
                    self._create() if len(self.mine) < LIVE_KEYS_PER_PERSON else self._delete()
                elif roll < 0.55:
                    self._extend()
                elif roll < 0.7:
                    self._delete()
                elif roll < 0.85 or not self.person.manager:
                    self._call("list", "GET", "keys/")
                else:
                    self._grant()
            except Exception as exc:  # the driver's own bug: say so, keep the load going
                err(f"soak: {self.person.name}: {type(exc).__name__}: {exc}")

    def _create(self) -> None:
        body: dict[str, object] = {"hours": 1, "description": "soak"}
        roll = self.rng.random()
        if roll < 0.2:  # scoped keys are users of their own: their revocation is held to the same rules
            body["scope"] = {"kind": "read-only"}
        elif roll < 0.4:
            bucket = self.world.restricted[self.person.project].replace("closed-", "open-", 1)
            body["scope"] = {"kind": "buckets", "buckets": [{"name": bucket, "access": "read"}]}
        response = self._call("create", "POST", "keys/", body)
        if response is None or response.status_code != 201:
            return
        answer = response.json()
        access_key = answer["key"]["access_key_id"]
        self.registry.add(access_key, answer["secret_key"], self.person.name)
        self.mine.append(access_key)
        if self.rng.random() < 0.6:
            self._end_soon(access_key)

    def _end_soon(self, access_key: str) -> None:
        """As the tests do: the key's expiry moved to 20-60 s from now in the database (and its
        exact-time job forgotten, so the next sweep queues one for the new time). A key that
        carries its own end (a project in an RGW account) gets it as an operator sets it
        (key_set_expiry), into its policy too: Ceph then refuses it at that time by itself."""
        at = timezone.now() + timedelta(seconds=self.rng.uniform(20, 60))
        try:
            close_old_connections()
            key = AccessKey.objects.select_related("project").get(access_key_id=access_key)
            if key.project.home.rights_in_keys:
                key_set_expiry(key=key, expires_at=at)
            else:
                AccessKey.objects.filter(access_key_id=access_key).update(expires_at=at, expiry_job_for=None)
        except Exception as exc:  # PostgreSQL or the gateway is down: the key keeps its hour
            err(f"soak: could not shorten {access_key}: {type(exc).__name__}")

    def _extend(self) -> None:
        if self.mine:
            self._call("extend", "POST", f"keys/{self.rng.choice(self.mine)}/extend/", {"hours": 2})

    def _delete(self) -> None:
        if not self.mine:
            return
        access_key = self.rng.choice(self.mine)
        response = self._call("delete", "DELETE", f"keys/{access_key}/")
        if response is not None and response.status_code in (204, 404):
            self.mine.remove(access_key)
            if response.status_code == 204:
                with self.registry.lock:
                    self.registry.keys[access_key].deleted_at = time.time()
        elif response is not None and response.status_code == 400:
            self.mine.remove(access_key)  # it ended already (expired)

    def _grant(self) -> None:
        bucket = self.world.restricted[self.person.project]
        if self.grants and self.rng.random() < 0.5:
            grant = self.grants.pop(self.rng.randrange(len(self.grants)))
            self._call("revoke", "DELETE", f"buckets/{bucket}/grants/{grant}/")
            return
        member = self.rng.choice(self.world.members[self.person.project])
        access = self.rng.choice(["read", "readwrite"])
        response = self._call(
            "grant", "POST", f"buckets/{bucket}/grants/", {"kind": "member", "member": member, "access": access}
        )
        if response is not None and response.status_code == 201:
            self.grants.append(int(response.json()["id"]))
