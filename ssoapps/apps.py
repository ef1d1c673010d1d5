"""SSO applications: the catalog, configured applications, signing keys, the SAML IdP, the portal."""

from django.apps import AppConfig


class SsoappsConfig(AppConfig):
    """App config for SSO applications."""

    name = "ssoapps"
    verbose_name = "SSO applications"
