"""The API's projects and keys. Thin: the access helpers decide who may, the services do it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.signals import auth_time_fresh
from api import serializers as s
from api.device_login import token_auth_at
from api.errors import NON_FIELD
from api.schema import BAD_INPUT
from buckets.access import project_bucket
from buckets.selectors import key_scope_label, with_scope_buckets
from keys.access import owned_key
from keys.configs import secret_bundle
from keys.models import AccessKey
from keys.rules import endpoint_url
from keys.scopes import MEMBER_SCOPE
from keys.selectors import keys_of, memberships_of
from keys.services import key_delete, key_edit_description, key_extend
from lifecycle.keys import FreshLoginNeeded, RevealNotOffered, key_request, key_reveal
from portal.http import client_ip
from projects.access import membership_for
from usage.models import TOTAL
from usage.selectors import DEFAULT_RANGE, RANGES, history_of


def payload(request: Request, serializer_class: type[s.serializers.Serializer], **context: Any) -> dict[str, Any]:
    """The request body, validated; a 400 naming each field otherwise."""
    if not isinstance(request.data, dict):
        raise ValidationError({NON_FIELD: ["Send a JSON object."]})
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def secret_answer(key: AccessKey, secret: str, endpoint: str) -> dict[str, Any]:
    bundle = secret_bundle(
        access_key=key.access_key_id,
        secret=secret,
        project_number=key.project.number,
        endpoint=endpoint,
        scope=key_scope_label(key),
    )
    return {
        "key": s.KeyOut(key).data,
        "secret_key": bundle.secret,
        "endpoint": bundle.endpoint,
        "region": bundle.region,
        "configs": [s.ConfigOut(c).data for c in bundle.configs],
    }


class ProjectList(APIView):
    @extend_schema(responses=s.ProjectOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.ProjectOut(memberships_of(request.user), many=True).data)


class ProjectDetail(APIView):
    @extend_schema(responses=s.ProjectOut)
    def get(self, request: Request, number: str) -> Response:
        return Response(s.ProjectOut(membership_for(request.user, number)).data)


class ProjectUsage(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("range", str, enum=list(RANGES), default=DEFAULT_RANGE.key),
            OpenApiParameter(
                "bucket", str, description="One bucket's points only (404 if the project has no such bucket)."
            ),
        ],
        responses={200: s.UsageOut, 400: OpenApiResponse(BAD_INPUT[0], description="An unknown range.")},
    )
    def get(self, request: Request, number: str) -> Response:
        """The project's usage history: every stored point of the range, as the web page's CSV."""
        name = request.query_params.get("bucket")
        if name == "":
            raise ValidationError({"bucket": ["name a bucket of the project, or leave bucket out"]})
        if name is None:
            project = membership_for(request.user, number).project
        else:  # as the bucket page's CSV: a bucket of the project, else 404
            project = project_bucket(request.user, number, name)[1].project
        history = history_of(project.pk, request.query_params.get("range"), now=timezone.now(), bucket=name)
        points = [
            {"time": at, "bucket": name if name != TOTAL else None, "bytes": size, "objects": count}
            for name, at, size, count in history.points
        ]
        answer = {
            "project": project.number,
            "range": history.range.key,
            "start": history.start,
            "end": history.end,
            "quota_bytes": project.quota_bytes,
            "points": points,
        }
        return Response(s.UsageOut(answer).data)


class KeyList(APIView):
    @extend_schema(responses=s.KeyOut(many=True))
    def get(self, request: Request, number: str) -> Response:
        keys = with_scope_buckets(keys_of(membership_for(request.user, number)))
        return Response(s.KeyOut(keys, many=True).data)

    @extend_schema(request=s.KeyCreateIn, responses={201: s.SecretOut})
    def post(self, request: Request, number: str) -> Response:
        membership = membership_for(request.user, number)
        data = payload(request, s.KeyCreateIn, max_hours=membership.project.key_max_hours)
        issued = key_request(
            membership=membership,
            hours=data["hours"],
            description=data["description"],
            scope=data.get("scope", MEMBER_SCOPE),
            ip=client_ip(request),
        )
        answer = secret_answer(issued.key, issued.secret, endpoint_url(data.get("endpoint") or ""))
        return Response(answer, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class KeyDetail(APIView):
    @extend_schema(responses=s.KeyOut)
    def get(self, request: Request, number: str, access_key_id: str) -> Response:
        return Response(s.KeyOut(owned_key(request.user, number, access_key_id)[1]).data)

    @extend_schema(request=s.KeyEditIn, responses=s.KeyOut)
    def patch(self, request: Request, number: str, access_key_id: str) -> Response:
        membership, key = owned_key(request.user, number, access_key_id)
        data = payload(request, s.KeyEditIn)
        key_edit_description(key=key, description=data["description"], actor=membership.user, ip=client_ip(request))
        key.refresh_from_db()
        return Response(s.KeyOut(key).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, number: str, access_key_id: str) -> Response:
        membership, key = owned_key(request.user, number, access_key_id)
        key_delete(key=key, actor=membership.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class KeyExtend(APIView):
    @extend_schema(request=s.KeyExtendIn, responses=s.KeyOut)
    def post(self, request: Request, number: str, access_key_id: str) -> Response:
        membership, key = owned_key(request.user, number, access_key_id)
        data = payload(request, s.KeyExtendIn, max_hours=key.project.key_max_hours)
        key = key_extend(key=key, hours=data["hours"], actor=membership.user, ip=client_ip(request))
        return Response(s.KeyOut(key).data)


def fresh_token(request: Request) -> bool:
    """The web pages' rule for a reveal, for a token: the IdP login that approved this token's
    device login was recent (api/device_login.py). Upstream tokens carry no such login."""
    return auth_time_fresh(token_auth_at(request.auth), settings.LATCHKEY_REAUTH_SECONDS)


REAUTH_NEEDED = (
    "Showing a secret again needs a fresh login: log out of Latchkey in your browser, run "
    "`latchkey login` and sign in at your identity provider, then retry within 10 minutes."
)


class KeyReveal(APIView):
    @extend_schema(request=s.RevealIn, responses=s.SecretOut)
    def post(self, request: Request, number: str, access_key_id: str) -> Response:
        membership, key = owned_key(request.user, number, access_key_id)
        data = payload(request, s.RevealIn)
        try:
            secret = key_reveal(membership=membership, key=key, fresh=fresh_token(request), ip=client_ip(request))
        except RevealNotOffered as exc:
            raise PermissionDenied(str(exc)) from None
        except FreshLoginNeeded:
            raise PermissionDenied(REAUTH_NEEDED) from None
        answer = secret_answer(key, secret, endpoint_url(data.get("endpoint") or ""))
        return Response(answer, headers={"Cache-Control": "no-store"})


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)
