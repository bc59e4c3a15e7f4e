from django.urls import path

from web import members as member_views
from web import projects as views
from web import usage as usage_views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("join/", member_views.join_request_view, name="join"),  # before <number>/
    path(
        "invitations/<int:invitation_id>/accept/",
        member_views.invitation_answer_view,
        {"answer": "accept"},
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        member_views.invitation_answer_view,
        {"answer": "decline"},
        name="invitation_decline",
    ),
    path("<str:number>/", views.project_detail, name="detail"),
    path("<str:number>/usage/refresh/", views.usage_refresh, name="usage_refresh"),
    path("<str:number>/usage.csv", usage_views.project_usage_csv, name="usage_csv"),
    path(
        "<str:number>/requests/<int:request_id>/approve/",
        member_views.join_request_decide_view,
        {"decision": "approve"},
        name="approve",
    ),
    path(
        "<str:number>/requests/<int:request_id>/reject/",
        member_views.join_request_decide_view,
        {"decision": "reject"},
        name="reject",
    ),
    path("<str:number>/invite/", member_views.invite_view, name="invite"),
    path("<str:number>/members/<int:membership_id>/role/", member_views.member_role_view, name="member_role"),
    path("<str:number>/members/<int:membership_id>/remove/", member_views.member_remove_view, name="member_remove"),
]
