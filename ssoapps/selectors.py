"""Reads about SSO applications."""

from django.db.models import QuerySet

from directory.models import User

from .models import Application


def applications_for_user(*, user: User) -> QuerySet[Application]:
    """Applications this user may use: authorized through one of their groups (default deny)."""
    if user.organization_id is None or not user.is_active:
        return Application.objects.none()
    return (
        Application.objects.filter(organization_id=user.organization_id, authorized_groups__members=user)
        .distinct()
        .order_by("label")
    )


def user_is_authorized(*, user: User, application: Application) -> bool:
    """Whether this user may sign in to this application."""
    return (
        user.is_active
        and user.organization_id == application.organization_id
        and application.authorized_groups.filter(members=user).exists()
    )
