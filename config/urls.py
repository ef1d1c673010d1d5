"""Top-level URL map."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import user_passes_test
from django.urls import URLPattern, include, path
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from config import health

# The RQ dashboard shows every tenant's jobs, so it is for platform operators only.
superuser_only = user_passes_test(lambda user: user.is_active and user.is_superuser, login_url="admin:login")


def rq_dashboard_patterns() -> list:
    """django-rq's dashboard and stats views, every one behind `superuser_only`."""
    patterns = get_api_urlpatterns() + get_admin_urlpatterns()
    return [URLPattern(p.pattern, superuser_only(p.callback), p.default_args, p.name) for p in patterns]


# The admin signs in through allauth too (same rate limits and MFA): its login page redirects there.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # allauth: sign-in, password and MFA pages only (no email management or signup); see the module.
    path("accounts/", include("ssoapps.portal.allauth_urls")),
    path("admin/rq/", include((rq_dashboard_patterns(), "django_rq"))),
    path("admin/", admin.site.urls),
    path("saml2/", include("ssoapps.idp.urls")),
    path("api/insights/", include("insights.urls")),
    path("", include("ssoapps.portal.urls")),
]
