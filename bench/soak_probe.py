"""The soak's prober: throughout the run, a request signed with each key that Latchkey shows as
ended, or whose expiry has passed, is sent to every gateway, about once a second, until every
gateway has refused it. Each new key is also tried once while live, so a prober that could
never be accepted (a wrong signature looks like a refusal) would show up as
``soak_keys_accepted_live=0``.

What the database says (status, expiry, end) is read each round; while PostgreSQL is down the
last reading stands. A key is "due" from min(its expiry, its end, the moment the API answered
its deletion): after that any acceptance counts against it.

Only S3's own refusals of the credentials (InvalidAccessKeyId, SignatureDoesNotMatch,
AccessDenied, UserSuspended) count as refused. A gateway that does not answer, or answers any
other error, decides nothing: the probe is counted as undecided and repeated."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.db import close_old_connections
from soak_users import Registry

from keys.models import AccessKey
from storage import client as storage

REFUSALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "UserSuspended"}
ACCEPTED, REFUSED, UNDECIDED = "accepted", "refused", "undecided"


@dataclass
class Seen:
    """One key as the prober knows it."""

    due: float | None = None  # epoch s; None while live
    status: str = ""
    accepted_live: bool = False
    last_accept: dict[str, float] = field(default_factory=dict)  # endpoint -> last acceptance after due
    refused: set[str] = field(default_factory=set)  # endpoints that have refused it


class Prober(threading.Thread):
    def __init__(self, registry: Registry, project_ids: list[int], endpoints: list[str]) -> None:
        super().__init__(name="soak-prober", daemon=True)
        self.registry, self.project_ids, self.endpoints = registry, project_ids, endpoints
        self.seen: dict[str, Seen] = {}
        self.probes = {ACCEPTED: 0, REFUSED: 0, UNDECIDED: 0}
        self.stop = threading.Event()
        self._clients: dict[tuple[str, str], Any] = {}
        self._client_lock = threading.Lock()  # boto3's default session is not safe to share while building

    def _client(self, access_key: str, secret: str, endpoint: str) -> Any:
        with self._client_lock:
            if (access_key, endpoint) not in self._clients:
                self._clients[(access_key, endpoint)] = storage.s3_client(
                    access_key=access_key, secret_key=secret, endpoint=endpoint
                )
            return self._clients[(access_key, endpoint)]

    def probe(self, access_key: str, secret: str, endpoint: str) -> str:
        try:
            self._client(access_key, secret, endpoint).list_buckets()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return REFUSED if code in REFUSALS else UNDECIDED
        except BotoCoreError:
            return UNDECIDED
        return ACCEPTED

    def _read_database(self) -> None:
        try:
            close_old_connections()
            rows = list(
                AccessKey.objects.filter(project_id__in=self.project_ids).values_list(
                    "access_key_id", "status", "expires_at", "ended_at"
                )
            )
        except Exception:  # PostgreSQL is down: keep what we knew
            return
        for access_key, status, expires_at, ended_at in rows:
            seen = self.seen.setdefault(access_key, Seen())
            seen.status = status
            ends = [expires_at.timestamp()] + ([ended_at.timestamp()] if ended_at else [])
            seen.due = min(ends)

    def _round(self, pool: ThreadPoolExecutor) -> None:
        self._read_database()
        now = time.time()
        work: list[tuple[str, str, str, Seen]] = []
        for access_key, tracked in self.registry.items():
            seen = self.seen.setdefault(access_key, Seen())
            if tracked.deleted_at is not None:
                seen.due = min(seen.due or tracked.deleted_at, tracked.deleted_at)
            if seen.due is not None and seen.due <= now:
                work += [(access_key, tracked.secret, url, seen) for url in self.endpoints if url not in seen.refused]
            elif not seen.accepted_live:
                work.append((access_key, tracked.secret, self.endpoints[0], seen))
        answers = pool.map(lambda w: (time.time(), self.probe(w[0], w[1], w[2])), work)
        for (_, _, url, seen), (at, answer) in zip(work, answers, strict=True):
            self.probes[answer] += 1
            due = seen.due
            if answer == ACCEPTED and (due is None or at < due):
                seen.accepted_live = True
            elif answer == ACCEPTED and due is not None:
                seen.last_accept[url] = at
            elif answer == REFUSED and due is not None and at >= due:
                seen.refused.add(url)

    def run(self) -> None:
        with ThreadPoolExecutor(8) as pool:
            while not self.stop.is_set():
                started = time.monotonic()
                self._round(pool)
                self.stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def unrefused_due(self, before: float) -> list[str]:
        """Keys due before ``before`` that some gateway has not refused yet."""
        tracked = dict(self.registry.items())
        return [
            key
            for key, seen in list(self.seen.items())  # a copy: the prober's thread adds keys meanwhile
            if key in tracked and seen.due is not None and seen.due <= before and seen.refused != set(self.endpoints)
        ]
