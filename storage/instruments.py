"""The Prometheus instruments of Ceph calls, counted in the process that makes them (storage's own
figures; portal/metrics.py serves them). With PROMETHEUS_MULTIPROC_DIR set, every process writes
its counts to files there and /metrics sums them."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values


def process_identifier() -> str:
    """Names this process's files in the shared folder. The pid alone is not enough: containers
    sharing the folder each count pids from 1, and two processes writing one file lose counts."""
    return f"{socket.gethostname()}-{os.getpid()}"


def shared() -> bool:
    """Whether every process's counts are summed (read when asked: tests set it late)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


if shared():
    # Before the metrics below are made: each takes its storage class from here when created.
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)

CEPH_SECONDS = Histogram(
    "latchkey_ceph_call_seconds",
    "Time of each call to Ceph (admin API and S3)",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
CEPH_ERRORS = Counter("latchkey_ceph_call_errors", "Ceph calls that failed", ["operation", "kind"])
CEPH_CONFLICT_RETRIES = Counter(
    "latchkey_ceph_conflict_retries",
    "Admin calls radosgw refused as a concurrent change of the same user record, and retried",
    ["operation"],
)
CEPH_CONFLICTS_EXHAUSTED = Counter(
    "latchkey_ceph_conflicts_exhausted",
    "Admin calls still refused as a concurrent change after every retry (then a Ceph error)",
    ["operation"],
)
REVOCATION_PROOF_SECONDS = Histogram(
    "latchkey_revocation_proof_seconds",
    "With LATCHKEY_VERIFY_REVOCATION: from a key's removal to S3's refusal at every endpoint",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
REVOCATION_UNPROVEN = Counter(
    "latchkey_revocation_unproven",
    "Removed keys that S3 still accepted at this endpoint (alarm: the key stays active and is retried)",
    ["endpoint"],
)

# Everything /metrics serves from this process (without PROMETHEUS_MULTIPROC_DIR).
ALL = (
    CEPH_SECONDS,
    CEPH_ERRORS,
    CEPH_CONFLICT_RETRIES,
    CEPH_CONFLICTS_EXHAUSTED,
    REVOCATION_PROOF_SECONDS,
    REVOCATION_UNPROVEN,
)


def registry() -> CollectorRegistry:
    """These figures as /metrics serves them: summed over every process's files in
    PROMETHEUS_MULTIPROC_DIR when it is set, else this process's own."""
    found = CollectorRegistry()
    if shared():
        multiprocess.MultiProcessCollector(found)
    else:
        for instrument in ALL:
            found.register(instrument)
    return found


@dataclass
class OperationCalls:
    operation: str
    calls: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # kind (Ceph's error code, "unavailable") → count

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def calls_by_operation() -> list[OperationCalls]:
    """Ceph calls and their errors per operation, from the same registry /metrics reads; the
    operations with errors first, then the busiest."""
    found: dict[str, OperationCalls] = {}
    for family in registry().collect():
        for sample in family.samples:
            operation = sample.labels.get("operation")
            if operation is None:
                continue
            calls = found.setdefault(operation, OperationCalls(operation))
            if sample.name == "latchkey_ceph_call_seconds_count":
                calls.calls += int(sample.value)
            elif sample.name == "latchkey_ceph_call_errors_total" and sample.value:
                kind = sample.labels.get("kind", "")
                calls.errors[kind] = calls.errors.get(kind, 0) + int(sample.value)
    return sorted(found.values(), key=lambda c: (-c.failed, -c.calls, c.operation))
