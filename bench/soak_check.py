"""The soak's invariants, checked from outside once the faults have stopped and the system has
had its bounded time to settle. Each violation is one line of detail.

1. Every key Latchkey shows as ended (expired, deleted) is refused by S3 at both gateways, now.
2. No key was accepted by S3 more than ``LIMIT`` (60 s) after it was due (its expiry, or its
   deletion), as probed throughout. The honest form under faults: while gateway A (Latchkey's
   admin endpoint), Redis, PostgreSQL or the worker is down, nothing can remove a key from
   Ceph, so a key's deadline is 60 s after it was due or 60 s after the end of the last such
   outage that overlapped its wait, whichever is later. Acceptances beyond 60 s that an
   outage explains are counted (``soak_late_explained_by_faults``), and the raw worst case is
   printed (``soak_max_acceptance_after_expiry_s``), so nothing is weakened silently. A key
   Latchkey still shows as active past its deadline is a violation too (even without a probe).
3. Ceph holds no key of the soak's tenants that Latchkey does not know: every key in Ceph is
   active in the database, or pending and younger than the creation grace (its request may
   still be in flight, or have died with PostgreSQL; the sweep removes it after the grace).
4. Ceph and the database agree on every bucket policy: Ceph's policy equals what the database
   says (``buckets.sync.desired_policy``), and no bucket is left marked for rewriting.
5. No 5xx (or no answer at all) outside the windows when PostgreSQL was down, and within them
   nothing but 503 (the database is not answering; never a 500). One more exception,
   documented in the README: while gateway A is down the API answers 503 "storage unavailable"
   (nothing changed, try again), which is the clear answer wanted, not a failure.

Besides the five: a worker or beat that exits on its own is a violation. (Celery 5.7.0's worker
died whenever Redis went away while it held ETA jobs, AttributeError in kombu's
``restore_unacked``; the soak found it and requirements.txt pins 5.6.3, which reconnects. Such
exits are still counted apart in ``soak_worker_exits_while_redis_down``, and are violations.)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import close_old_connections
from django.utils import timezone
from soak_faults import BLOCKS_REVOCATION, Window
from soak_probe import REFUSED, Prober
from soak_users import Op, Registry

from buckets.key_rights import key_rights
from buckets.models import Bucket
from buckets.sync import desired_policy
from keys.expiry import PENDING_GRACE
from keys.models import AccessKey
from portal.errors import UNAVAILABLE
from projects.models import Membership, Project
from storage import accounts, homes
from storage import client as storage
from storage.identity import key_policy

LIMIT = 60.0
GRACE = 5.0  # a request begun (or an exit seen) just as a service returned belongs to its outage


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # for stderr: what else a reader should see


def deadline(due: float, windows: list[Window]) -> float:
    """60 s after ``due``, pushed to 60 s after each revocation-blocking outage overlapping the wait."""
    return outages_in_wait(due, windows)[0]


def outages_in_wait(due: float, windows: list[Window]) -> tuple[float, list[str]]:
    """The deadline and the kinds of the outages that pushed it."""
    limit, kinds = due + LIMIT, []
    changed = True
    while changed:
        changed = False
        for w in windows:
            end = w.end if w.end is not None else float("inf")
            if w.kind in BLOCKS_REVOCATION and w.start < limit and end > due and end + LIMIT > limit:
                limit, changed = end + LIMIT, True
                kinds.append(w.kind)
    return limit, kinds


def check_ended_refused(found: Findings, prober: Prober, registry: Registry, projects: list[Project]) -> None:
    ended = dict(
        AccessKey.objects.filter(
            project__in=projects, status__in=(AccessKey.Status.EXPIRED, AccessKey.Status.REVOKED)
        ).values_list("access_key_id", "status")
    )
    tracked = dict(registry.items())
    for access_key, item in tracked.items():
        if item.deleted_at is not None and access_key not in ended:
            found.violations.append(f"ended: {access_key} deleted through the API but not shown as ended")
    checked = 0
    for access_key in ended:
        if access_key not in tracked:
            continue
        checked += 1
        for url in prober.endpoints:
            answer = prober.probe(access_key, tracked[access_key].secret, url)
            if answer != REFUSED:
                found.violations.append(f"ended: {access_key} ({ended[access_key]}) {answer} at {url}")
    found.figures["soak_keys_ended_checked"] = str(checked)


def check_late(found: Findings, prober: Prober, windows: list[Window], now: float, projects: list[Project]) -> None:
    worst = 0.0
    explained = 0
    for access_key, seen in list(prober.seen.items()):
        if seen.due is None or not seen.last_accept:
            continue
        last = max(seen.last_accept.values())
        late = last - seen.due
        worst = max(worst, late)
        if last > deadline(seen.due, windows):
            where = [url for url, at in seen.last_accept.items() if at == last]
            found.violations.append(f"late: {access_key} accepted at {where} {late:.1f} s after it was due")
        elif late > LIMIT:
            explained += 1
            causes = ",".join(outages_in_wait(seen.due, windows)[1])
            found.notes.append(
                f"{access_key} accepted {late:.1f} s after it was due, within its deadline ({causes} down)"
            )
    for access_key, expires_at in AccessKey.objects.filter(
        project__in=projects, status=AccessKey.Status.ACTIVE, expires_at__lt=timezone.now()
    ).values_list("access_key_id", "expires_at"):
        if deadline(expires_at.timestamp(), windows) < now:
            found.violations.append(f"late: {access_key} still active, {now - expires_at.timestamp():.0f} s overdue")
    found.figures["soak_max_acceptance_after_expiry_s"] = f"{worst:.1f}"
    found.figures["soak_late_explained_by_faults"] = str(explained)
    found.figures["soak_keys_accepted_live"] = str(sum(s.accepted_live for s in prober.seen.values()))


def check_ceph_keys(found: Findings, projects: list[Project]) -> None:
    """Every key in Ceph, on a member's subuser or a scoped key's own user, is one Latchkey holds
    active (or is still making)."""
    pending = 0
    grace_start = timezone.now() - PENDING_GRACE
    scoped = storage.scoped_users()
    for project in projects:
        keys = AccessKey.objects.filter(project=project)
        rows = {
            name: (status, created_at)
            for access_key, user, status, created_at in keys.values_list(
                "access_key_id", "rgw_user", "status", "created_at"
            )
            for name in (access_key, user)
            if name
        }
        if project.home.rights_in_keys:
            # Key users of accounts have no tenant; those of this project's rows are checked.
            names = sorted(set(scoped.get("", set())) & set(rows))
        else:
            in_ceph = [stored.access_key for stored in storage.keys_list(tenant=project.tenant)]
            names = in_ceph + sorted(scoped.get(project.tenant, set()))
        for name in names:
            status, created_at = rows.get(name, ("unknown", None))
            if status == AccessKey.Status.ACTIVE:
                continue
            if status == AccessKey.Status.PENDING and created_at is not None and created_at > grace_start:
                pending += 1
                continue
            found.violations.append(f"ceph: {name} of {project.tenant} in Ceph, Latchkey says {status}")
    found.figures["soak_pending_keys_in_ceph"] = str(pending)


def check_policies(found: Findings, projects: list[Project]) -> None:
    now = timezone.now()
    buckets = list(Bucket.objects.filter(project__in=projects).select_related("project"))
    for bucket in buckets:
        current = homes.bucket_policy_get(bucket.project.home, name=bucket.name)
        if desired_policy(bucket, current, now=now) != current:
            found.violations.append(f"policy: {bucket.project.tenant}/{bucket.name} differs from the database")
        if bucket.policy_dirty:
            found.violations.append(f"policy: {bucket.project.tenant}/{bucket.name} still marked for rewriting")
    found.figures["soak_buckets_checked"] = str(len(buckets))
    # Where keys carry their own rights: each live key's policy in Ceph is what the database says.
    checked = 0
    for project in projects:
        if not project.home.rights_in_keys:
            continue
        members = {m.user_id: m for m in Membership.objects.filter(project=project)}
        for key in AccessKey.objects.filter(project=project, status=AccessKey.Status.ACTIVE).select_related("project"):
            rights = key_rights(key, membership=members.get(key.owner_id), now=now)
            checked += 1
            if homes.key_rights_drifted(project.home, user=key.rgw_user, rights=rights):
                held = accounts.key_user_policy_get(user=key.rgw_user) or {}
                wanted = key_policy(rights)
                diff = [s for s in held.get("Statement", []) if s not in wanted["Statement"]]
                diff += [s for s in wanted["Statement"] if s not in held.get("Statement", [])]
                found.violations.append(
                    f"rights: key {key.access_key_id} of {project.tenant}: {json.dumps(diff)[:600]}"
                )
    found.figures["soak_key_policies_checked"] = str(checked)


def check_http(found: Findings, ops: list[Op], windows: list[Window]) -> None:
    down_db = [w for w in windows if w.kind == "postgres"]
    down_a = [w for w in windows if w.kind in ("rgw-a", "rgw-both")]
    during_db = storage_503 = 0
    refusals = Counter((op.kind, op.status, op.detail[:120]) for op in ops if 400 <= op.status < 500)
    found.notes += [f"{n} x {kind} answered {status}: {detail}" for (kind, status, detail), n in refusals.most_common()]
    for op in ops:
        if 0 < op.status < 500:
            continue
        if op.status in (0, 503) and any(w.overlaps(op.start, op.end, GRACE) for w in down_db):
            during_db += 1  # the database is down: "not answering, nothing changed" (a 500 is not that)
        elif op.status == 503 and UNAVAILABLE in op.detail and any(w.overlaps(op.start, op.end) for w in down_a):
            storage_503 += 1
        else:
            stamp = time.strftime("%H:%M:%S", time.localtime(op.start))
            found.violations.append(f"http: {op.person} {op.kind} at {stamp} answered {op.status}: {op.detail[:150]}")
    found.figures["soak_http_503_while_postgres_down"] = str(during_db)
    found.figures["soak_http_503_while_gateway_a_down"] = str(storage_503)
    by_status = Counter(op.status for op in ops)
    found.figures["soak_operations_by_status"] = ",".join(f"{k}:{v}" for k, v in sorted(by_status.items()))
    by_kind = Counter(op.kind for op in ops)
    found.figures["soak_operations_by_kind"] = ",".join(f"{k}:{v}" for k, v in sorted(by_kind.items()))


def check_exits(found: Findings, exits: list[tuple[str, float, int]], windows: list[Window]) -> None:
    redis_down = [w for w in windows if w.kind == "redis"]
    during_redis = 0
    for role, at, code in exits:
        during_redis += role == "worker" and any(w.overlaps(at, at, GRACE) for w in redis_down)
        found.violations.append(f"process: celery {role} exited on its own with {code}")
    found.figures["soak_worker_exits_while_redis_down"] = str(during_redis)


def check_all(
    *,
    prober: Prober,
    registry: Registry,
    windows: list[Window],
    ops: list[Op],
    project_ids: list[int],
    exits: list[tuple[str, float, int]],
) -> Findings:
    found = Findings()
    close_old_connections()
    projects = list(Project.objects.filter(pk__in=project_ids))
    now = time.time()
    check_ended_refused(found, prober, registry, projects)
    check_late(found, prober, windows, now, projects)
    check_ceph_keys(found, projects)
    check_policies(found, projects)
    check_http(found, ops, windows)
    check_exits(found, exits, windows)
    return found
