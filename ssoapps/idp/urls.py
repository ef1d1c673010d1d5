"""IdP routes, mounted at /saml2/ (URL names keep the namespace ssoapps_saml)."""

from django.urls import path

from . import views

app_name = "ssoapps_saml"

urlpatterns = [
    path("<slug:slug>", views.sso_endpoint, name="sso"),
    path("<slug:slug>/metadata", views.metadata, name="metadata"),
    path("<slug:slug>/resume/<str:token>", views.sso_resume, name="resume"),
]
