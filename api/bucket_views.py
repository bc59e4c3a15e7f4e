"""The API's buckets and grants, through the same access helpers and services as the pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.views import payload
from buckets.access import bucket_grant, project_bucket
from buckets.grants import GrantRequest, grant_create, grant_revoke
from buckets.models import Bucket
from buckets.selectors import access_summary, buckets_of, grants_of
from buckets.services import bucket_create, bucket_delete, bucket_set_members_access
from projects.access import membership_for
from projects.models import MANAGING, WRITING


def bucket_data(bucket: Bucket) -> dict[str, Any]:
    grants_of(bucket)  # BucketOut reads bucket.live_grants
    bucket.summary = access_summary(bucket)  # type: ignore[attr-defined]
    return dict(s.BucketOut(bucket).data)


class BucketList(APIView):
    @extend_schema(responses=s.BucketOut(many=True))
    def get(self, request: Request, number: str) -> Response:
        membership = membership_for(request.user, number)
        return Response([bucket_data(b) for b in buckets_of(membership.project_id)])

    @extend_schema(request=s.BucketCreateIn, responses={201: s.BucketOut})
    def post(self, request: Request, number: str) -> Response:
        membership = membership_for(request.user, number, roles=WRITING)
        data = payload(request, s.BucketCreateIn)
        bucket = bucket_create(membership=membership, name=data["name"])
        return Response(bucket_data(bucket), status=status.HTTP_201_CREATED)


class BucketDetail(APIView):
    @extend_schema(responses=s.BucketOut)
    def get(self, request: Request, number: str, name: str) -> Response:
        return Response(bucket_data(project_bucket(request.user, number, name)[1]))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, number: str, name: str) -> Response:
        membership, bucket = project_bucket(request.user, number, name, roles=MANAGING)
        bucket_delete(membership=membership, bucket=bucket)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BucketAccess(APIView):
    @extend_schema(request=s.MembersAccessIn, responses=s.BucketOut)
    def put(self, request: Request, number: str, name: str) -> Response:
        _, bucket = project_bucket(request.user, number, name, roles=MANAGING)
        data = payload(request, s.MembersAccessIn)
        bucket_set_members_access(bucket=bucket, members_access=data["members_access"])
        return Response(bucket_data(bucket))


class GrantList(APIView):
    @extend_schema(responses=s.GrantOut(many=True))
    def get(self, request: Request, number: str, name: str) -> Response:
        _, bucket = project_bucket(request.user, number, name)
        return Response(s.GrantOut(grants_of(bucket), many=True).data)

    @extend_schema(request=s.GrantIn, responses={201: s.GrantOut})
    def post(self, request: Request, number: str, name: str) -> Response:
        membership, bucket = project_bucket(request.user, number, name, roles=MANAGING)
        data = payload(request, s.GrantIn)
        grant = grant_create(
            actor=membership.user,
            bucket=bucket,
            request=GrantRequest(
                kind=data["kind"],
                access=data["access"],
                member_id=data.get("member"),
                group_id=data.get("group"),
                project_number=data["project_number"],
                user=data["user"],
                cidrs=list(data["cidrs"]),
                expires_at=data.get("expires_at"),
                public_confirmed=data["confirm_public"],
            ),
        )
        return Response(s.GrantOut(grant).data, status=status.HTTP_201_CREATED)


class GrantDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, number: str, name: str, grant_id: int) -> Response:
        membership, grant = bucket_grant(request.user, number, name, grant_id)
        grant_revoke(actor=membership.user, grant=grant)
        return Response(status=status.HTTP_204_NO_CONTENT)
