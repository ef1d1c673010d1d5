"""Portal routes: home, app launch, account activation."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("launch/<slug:slug>", views.launch, name="launch"),
    path("activate/<str:uidb36>/<str:token>/", views.activate, name="activate"),
]
