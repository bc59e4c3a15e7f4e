from django.urls import path

from web import buckets as views
from web import groups as group_views
from web import usage as usage_views

app_name = "buckets"
urlpatterns = [
    path("<str:number>/buckets/new/", views.bucket_create_view, name="create"),
    path("<str:number>/buckets/<str:name>/", views.bucket_detail_view, name="detail"),
    path("<str:number>/buckets/<str:name>/usage.csv", usage_views.bucket_usage_csv, name="usage_csv"),
    path("<str:number>/buckets/<str:name>/delete/", views.bucket_delete_view, name="delete"),
    path("<str:number>/buckets/<str:name>/access/", views.bucket_access_view, name="access"),
    path("<str:number>/buckets/<str:name>/left-out/", views.bucket_left_out_dismiss_view, name="left_out_dismiss"),
    path("<str:number>/buckets/<str:name>/grants/", views.grant_create_view, name="grant_create"),
    path("<str:number>/buckets/<str:name>/grants/<int:grant_id>/revoke/", views.grant_revoke_view, name="grant_revoke"),
    path("<str:number>/buckets/<str:name>/policy/", views.bucket_policy_view, name="policy"),
    path("<str:number>/buckets/<str:name>/link/", views.link_create_view, name="link"),
    path("<str:number>/groups/", group_views.groups_view, name="groups"),
    path("<str:number>/groups/<int:group_id>/", group_views.group_view, name="group"),
    path("<str:number>/groups/<int:group_id>/delete/", group_views.group_delete_view, name="group_delete"),
]
