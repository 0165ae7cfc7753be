from django.urls import path

from . import views

app_name = "board"

urlpatterns = [
    path("", views.index, name="index"),
    path("notes/new/", views.note_create, name="note_create"),
    path("version", views.version, name="version"),
    path("address", views.address, name="address"),
    path("healthz", views.healthz, name="healthz"),
]
