from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import bucket_views, views

app_name = "api"
P = "projects/<str:number>"
K = f"{P}/keys/<str:access_key_id>"
B = f"{P}/buckets/<str:name>"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("projects/", views.ProjectList.as_view(), name="projects"),
    path(f"{P}/", views.ProjectDetail.as_view(), name="project"),
    path(f"{P}/usage/", views.ProjectUsage.as_view(), name="usage"),
    path(f"{P}/keys/", views.KeyList.as_view(), name="keys"),
    path(f"{K}/", views.KeyDetail.as_view(), name="key"),
    path(f"{K}/extend/", views.KeyExtend.as_view(), name="key_extend"),
    path(f"{K}/reveal/", views.KeyReveal.as_view(), name="key_reveal"),
    path(f"{P}/buckets/", bucket_views.BucketList.as_view(), name="buckets"),
    path(f"{B}/", bucket_views.BucketDetail.as_view(), name="bucket"),
    path(f"{B}/access/", bucket_views.BucketAccess.as_view(), name="bucket_access"),
    path(f"{B}/grants/", bucket_views.GrantList.as_view(), name="grants"),
    path(f"{B}/grants/<int:grant_id>/", bucket_views.GrantDetail.as_view(), name="grant"),
    # Anything else below /api/v1/ (e.g. a project number with a slash in it): the API's JSON 404,
    # not the site's HTML page.
    re_path(r"", views.not_found),
]
