from django.urls import path

from web import operators as views

app_name = "operators"
urlpatterns = [
    path("", views.overview, name="overview"),
]
