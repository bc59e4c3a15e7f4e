from django.urls import path

from projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("<str:number>/", views.project_detail, name="detail"),
    path("<str:number>/usage/refresh/", views.usage_refresh, name="usage_refresh"),
]
