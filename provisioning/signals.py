"""Receivers: directory and application changes mark app accounts dirty, in the writer's transaction."""

from django.dispatch import receiver

from directory import signals as directory_signals
from ssoapps import signals as ssoapps_signals

from . import mapping, marking, selectors
from .groups import groups_push_later

# A change to any of these directory attributes can change what an app should hold.
RELEVANT_ALWAYS = {"created", "state"}


@receiver(directory_signals.user_changed, dispatch_uid="provisioning.user_changed")
def user_changed(sender, user, changed_fields, **kwargs) -> None:
    """Attribute change, suspension or reactivation: re-send the user to every app that has them."""
    if user.organization_id is None:
        return
    changed = set(changed_fields)
    if "created" in changed:
        return  # a new user is in no group yet; membership brings them into scope
    relevant = RELEVANT_ALWAYS | _mapped_attributes(user.organization_id)
    if changed & relevant:
        marking.accounts_mark_for_users(users=[user], reason=f"user changed: {', '.join(sorted(changed))}")


def _mapped_attributes(organization_id: int) -> set[str]:
    attributes: set[str] = set()
    for integration in selectors.integrations_listening(organization_id=organization_id).select_related("application"):
        attributes |= set(mapping.attribute_map(integration=integration).values())
    return attributes


@receiver(directory_signals.user_deleting, dispatch_uid="provisioning.user_deleting")
def user_deleting(sender, user, **kwargs) -> None:
    """The user is about to go: their app accounts are deleted (or deactivated) remotely."""
    marking.accounts_mark_user_deleted(user=user)


@receiver(directory_signals.membership_changed, dispatch_uid="provisioning.membership_changed")
def membership_changed(sender, group, users, added, **kwargs) -> None:
    """Users joined or left a group: apps bound to it gain or lose them."""
    for application in group.applications.all():
        marking.accounts_mark_for_application(
            application=application, users=users, reason=f"{'added to' if added else 'removed from'} {group}"
        )
        groups_push_later(application=application)


@receiver(ssoapps_signals.group_authorization_changed, dispatch_uid="provisioning.group_authorization_changed")
def group_authorization_changed(sender, application, groups, bound, **kwargs) -> None:
    """Groups bound to or unbound from an app: their members gain or lose the app account."""
    from directory.models import User

    users = User.objects.filter(user_groups__in=groups).distinct()
    marking.accounts_mark_for_application(
        application=application, users=users, reason=f"groups {'bound' if bound else 'unbound'}"
    )
    groups_push_later(application=application)
