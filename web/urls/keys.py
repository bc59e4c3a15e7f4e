from django.urls import path

from web import audit as audit_views
from web import keys as views

app_name = "keys"
urlpatterns = [
    path("<str:number>/keys/", views.key_list_view, name="list"),
    path("<str:number>/keys/new/", views.key_create_view, name="create"),
    path("<str:number>/keys/<str:access_key_id>/", views.key_detail_view, name="detail"),
    path("<str:number>/keys/<str:access_key_id>/extend/", views.key_extend_view, name="extend"),
    path("<str:number>/keys/<str:access_key_id>/edit/", views.key_edit_view, name="edit"),
    path("<str:number>/keys/<str:access_key_id>/reveal/", views.key_reveal_view, name="reveal"),
    path("<str:number>/keys/<str:access_key_id>/delete/", views.key_delete_view, name="delete"),
    path("<str:number>/audit/", audit_views.audit_view, name="audit"),
    path("<str:number>/audit.csv", audit_views.audit_csv_view, name="audit_csv"),
]
