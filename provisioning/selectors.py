"""Reads for provisioning: who is in an app's scope, which integrations listen."""

from django.db.models import QuerySet

from directory.models import User

from .models import Integration, IntegrationStatus

# Integrations that hear directory changes (an inactive one syncs everyone when activated).
LISTENING = (IntegrationStatus.ACTIVE, IntegrationStatus.FAILING, IntegrationStatus.QUARANTINED)


def users_in_scope(*, integration: Integration) -> QuerySet[User]:
    """Directory users who should have an account in the app: members of a group bound to it."""
    application = integration.application
    return User.objects.filter(
        organization_id=application.organization_id, user_groups__applications=application
    ).distinct()


def user_in_scope(*, integration: Integration, user: User) -> bool:
    """Whether this user is a member of a group bound to the app."""
    return users_in_scope(integration=integration).filter(pk=user.pk).exists()


def integrations_listening(*, organization_id: int) -> QuerySet[Integration]:
    """The organization's integrations that provision directory changes."""
    return Integration.objects.filter(application__organization_id=organization_id, status__in=LISTENING)
