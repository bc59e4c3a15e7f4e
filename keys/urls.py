from django.urls import path

from keys import views

app_name = "keys"
urlpatterns = [
    path("<str:number>/keys/new/", views.key_create_view, name="create"),
    path("<str:number>/keys/<str:access_key_id>/delete/", views.key_delete_view, name="delete"),
]
