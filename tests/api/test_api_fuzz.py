"""The API fuzzed from its own OpenAPI schema (schemathesis strategies, hypothesis): whatever a
client sends, valid or not, the answer is never a 5xx, its status is one the schema declares for
that operation, and an error answer has the declared shape. Half of the cases aim at a real
project, key and bucket so bodies reach the validation and the services behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buckets.services import bucket_create
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from tests.support.api import device_token

pytestmark = [pytest.mark.django_db, pytest.mark.ceph, pytest.mark.usefixtures("many_device_logins")]
EXAMPLES = 25


def test_no_input_makes_the_api_fail_with_a_5xx(project: Project, cast: dict[str, Any]) -> None:
    manager = Membership.objects.get(project=project, role=Role.MANAGER)
    key = key_create(membership=manager, hours=1, description="fuzz").key
    bucket_create(membership=manager, name="fuzz-bucket")
    real = {"number": project.number, "access_key_id": key.access_key_id, "name": "fuzz-bucket", "grant_id": "1"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {device_token(cast['manager'])}"}
    document = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    schema = schemathesis.openapi.from_dict(document)
    declared = {
        (method.upper(), path): set(answers["responses"])
        for path, item in document["paths"].items()
        for method, answers in item.items()
    }
    client = Client()
    failures: list[str] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 15

    def fuzz(operation: Any) -> None:
        @given(case=operation.as_strategy(), aim=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def hit(case: Any, aim: bool) -> None:
            params = {k: (real.get(k, v) if aim else v) for k, v in (case.path_parameters or {}).items()}
            path = operation.path.format(**{k: str(v) for k, v in params.items()})
            body = case.body if not isinstance(case.body, type(schemathesis.core.NOT_SET)) else None
            call = getattr(client, case.method.lower())
            if body is None:
                response = call(path, **headers)
            else:
                response = call(path, json.dumps(body), content_type="application/json", **headers)
            code = response.status_code
            if code >= 500:
                failures.append(f"{case.method} {path} {body!r} -> {code}")
            elif str(code) not in declared[(case.method.upper(), operation.path)]:
                failures.append(f"{case.method} {path} {body!r} -> {code}, not in the schema")
            elif code >= 400 and not _error_shaped(code, response.json()):
                failures.append(f"{case.method} {path} {body!r} -> {code} {response.content[:120]!r}")

        hit()

    for operation in operations:
        fuzz(operation)
    assert not failures, "\n".join(failures[:20])


def _error_shaped(code: int, answer: Any) -> bool:
    if code == 400:
        errors = answer.get("errors") if isinstance(answer, dict) else None
        return isinstance(errors, dict) and all(isinstance(v, list) for v in errors.values())
    return isinstance(answer, dict) and isinstance(answer.get("detail"), str)
