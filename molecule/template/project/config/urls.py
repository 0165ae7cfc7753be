from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("address", views.address),
    path("healthz", views.healthz),
    path("accounts/", include("allauth.urls")),
]
