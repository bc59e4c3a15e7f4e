"""Usage history on the project and bucket pages: the chart's context, and the CSV of the points."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_GET

from buckets.access import project_bucket
from projects.access import membership_for
from projects.models import Project
from usage.chart import usage_chart
from usage.models import TOTAL
from usage.selectors import DEFAULT_RANGE, RANGES, UnknownRange, gap_for, history_of, series_of
from web.csvfile import csv_download, safe_cell


def usage_context(
    request: HttpRequest, project: Project, *, largest: Sequence[str] = (), bucket: str = ""
) -> dict[str, Any]:
    """The chart of a project with its ``largest`` buckets, or of one ``bucket``, over the range the
    page asks for (``?range=``; an unknown one shows the default and says so)."""
    asked = request.GET.get("range")
    chosen = RANGES.get(asked or DEFAULT_RANGE.key, DEFAULT_RANGE)
    now = timezone.now()
    start = now - chosen.span
    zone = timezone.get_current_timezone()
    labels = {bucket: bucket} if bucket else {TOTAL: "Project", **{name: name for name in largest}}
    chart = usage_chart(
        # Bins from a local midnight, so a day's (or week's) row of the table holds that day's points.
        series_of(
            project.pk, list(labels), start=start, end=now, bin=chosen.bin, origin=datetime(2000, 1, 1, tzinfo=zone)
        ),
        labels,
        start=start,
        end=now,
        quota=None if bucket else project.quota_bytes,
        gap=gap_for(chosen, settings.LATCHKEY_USAGE_KEEP),
        row=chosen.row,
        zone=zone,
    )
    return {
        "usage_chart": chart,
        "usage_range": chosen,
        "usage_ranges": RANGES.values(),
        "usage_range_error": f"There is no range {asked!r}; showing {chosen.label}."
        if asked and asked not in RANGES
        else "",
    }


def _points_csv(request: HttpRequest, project_id: int, filename: str, bucket: str | None = None) -> HttpResponseBase:
    """Every stored point of the range the request names (400 for one that does not exist)."""
    try:
        history = history_of(project_id, request.GET.get("range"), now=timezone.now(), bucket=bucket)
    except UnknownRange as exc:
        return HttpResponse(f"{exc.field}: {exc}\n", status=400, content_type="text/plain; charset=utf-8")
    return csv_download(
        ["time", "bucket", "bytes", "objects"],
        (
            (at.isoformat(), safe_cell(name) if name else "(project)", size, count)
            for name, at, size, count in history.points
        ),
        filename,
    )


@require_GET
@login_required
def project_usage_csv(request: HttpRequest, number: str) -> HttpResponseBase:
    """Every point of the project and its buckets in the range."""
    project = membership_for(request.user, number).project
    return _points_csv(request, project.pk, f"latchkey-usage-{project.number}.csv")


@require_GET
@login_required
def bucket_usage_csv(request: HttpRequest, number: str, name: str) -> HttpResponseBase:
    _, bucket = project_bucket(request.user, number, name)
    filename = f"latchkey-usage-{bucket.project.number}-{bucket.name}.csv"
    return _points_csv(request, bucket.project_id, filename, bucket=bucket.name)
