"""URL map of the demo SP: its home page and djangosaml2's endpoints under /saml2/."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signout/", views.sign_out, name="sign_out"),
    path("saml2/", include("djangosaml2.urls")),
]
