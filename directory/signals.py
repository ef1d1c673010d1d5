"""Directory signals: the guard on group membership, and the domain signals other apps hear.

The services send `user_changed`, `user_deleting` and `membership_changed` after they write,
inside the same transaction, so a listener (provisioning) can mark its own rows in step.
"""

from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed
from django.dispatch import Signal, receiver

from .models import User, UserGroup

# user, changed_fields (set of names; "state" when suspended or reactivated)
user_changed = Signal()
# user (sent before the row is deleted, so listeners can still read its relations)
user_deleting = Signal()
# group, users (list), added (bool)
membership_changed = Signal()


@receiver(m2m_changed, sender=UserGroup.members.through, dispatch_uid="directory.membership_guard")
def membership_guard(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """Refuse any membership that crosses organizations, whichever side it is added from."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # user.user_groups.add(group, ...)
        foreign = UserGroup.objects.filter(pk__in=pk_set).exclude(organization_id=instance.organization_id)
    else:  # group.members.add(user, ...)
        foreign = User.objects.filter(pk__in=pk_set).exclude(organization_id=instance.organization_id)
    if foreign.exists():
        raise ValidationError("A group can only hold users of its own organization.")
