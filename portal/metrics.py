"""Prometheus metrics at /metrics.

Figures that must agree across processes (keys, events, revocation lag, queue depth) are read
from PostgreSQL and Redis at scrape time, so any web worker gives the same answer. Ceph call
latency and errors are counted in the process that makes the call; with several processes (gunicorn
workers, the Celery worker and its pool) set PROMETHEUS_MULTIPROC_DIR to one shared folder and they
are summed (prometheus_client's multiprocess mode). The compose file shares one volume between the
web and worker containers, so the revocations the worker makes show on the web's /metrics.
LATCHKEY_METRICS_TOKEN, when set, must be sent as a bearer token; without it, only a client on
the same host (loopback) is answered, and everyone else gets 404: the figures name projects,
providers and failure counts, which are nobody else's business.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
from collections.abc import Iterator

import redis
from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from keys.models import AccessKey, KeyEvent
from keys.selectors import expiry_enforcement, revocation_lag
from lifecycle.recheck import OUTCOMES
from lifecycle.selectors import recheck_report
from portal.http import client_ip
from storage import instruments

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        keys = GaugeMetricFamily("latchkey_keys", "S3 keys by status", labels=["status"])
        counts = dict(AccessKey.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in AccessKey.Status.values:
            keys.add_metric([status], counts.get(status, 0))
        yield keys
        events = GaugeMetricFamily(
            "latchkey_key_events", "Audited key events since the start, by action", labels=["action"]
        )
        by_action = dict(KeyEvent.objects.values_list("action").annotate(n=Count("id")).values_list("action", "n"))
        for action in KeyEvent.Action.values:
            events.add_metric([action], by_action.get(action, 0))
        yield events
        lag = GaugeMetricFamily(
            "latchkey_revocation_lag_seconds",
            "Delay from expiry to revocation, keys expired in the last 24 h: to S3's refusal at every "
            "endpoint where LATCHKEY_VERIFY_REVOCATION proved it, else to the removal from Ceph",
            labels=["quantile"],
        )
        for q, seconds in revocation_lag().quantiles().items():
            lag.add_metric([str(q)], seconds)
        yield lag
        sweep = expiry_enforcement()
        age = GaugeMetricFamily(
            "latchkey_sweep_age_seconds", "Seconds since a worker last completed the expiry sweep (+Inf: never)"
        )
        age.add_metric([], math.inf if sweep.age_seconds is None else sweep.age_seconds)
        yield age
        yield from _recheck_metrics()


def _recheck_metrics() -> Iterator[Metric]:
    report = recheck_report()
    age = GaugeMetricFamily(
        "latchkey_membership_recheck_age_seconds",
        "Seconds since a worker last completed the membership re-check (+Inf: never)",
    )
    seconds = report.age_seconds()
    age.add_metric([], math.inf if seconds is None else seconds)
    yield age
    accounts = GaugeMetricFamily(
        "latchkey_membership_recheck_accounts",
        "Accounts in the last membership re-check, by provider and outcome "
        "(no_refresh_token: cannot be re-checked without a login)",
        labels=["provider", "outcome"],
    )
    for provider, counts in sorted(report.outcomes.items()):
        for outcome in OUTCOMES:
            accounts.add_metric([provider, outcome], counts.get(outcome, 0))
    yield accounts


class QueueCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("latchkey_queue_depth", "Celery tasks waiting in Redis (-1: Redis down)")
        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
            depth.add_metric([], float(client.llen("celery")))
        except redis.RedisError:
            depth.add_metric([], -1.0)
        yield depth


def _registry() -> CollectorRegistry:
    registry = instruments.registry()
    registry.register(DatabaseCollector())
    registry.register(QueueCollector())
    return registry


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.LATCHKEY_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    elif not _loopback(client_ip(request)):
        raise Http404("Not found")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
