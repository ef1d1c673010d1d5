"""Pushing an app's groups: the groups bound to it, with their provisioned members, for apps that take groups."""

from django.db import transaction

from . import queueing
from .audit import attempt_recorder, event_record
from .client import integration_client, integration_failed
from .models import AccountState, Integration, IntegrationStatus, ProvisionedAccount
from .scim_client import ScimClient
from .scim_errors import NotFoundError, RefusedError, ScimError


def groups_push_later(*, application) -> None:
    """After this transaction, push the app's groups, if it takes groups."""
    integration = (
        Integration.objects.filter(
            application=application, status__in=(IntegrationStatus.ACTIVE, IntegrationStatus.FAILING)
        )
        .only("pk", "capabilities")
        .first()
    )
    if integration is not None and integration.capabilities.get("groups"):
        integration_id = integration.pk
        transaction.on_commit(lambda: queueing.enqueue_groups_push(integration_id=integration_id), robust=True)


def integration_groups_push(*, integration: Integration) -> None:
    """Make the app's groups match the groups bound to it: create, set members (full list), delete unbound."""
    integration = Integration.objects.select_related("application__organization").get(pk=integration.pk)
    if not integration.is_running or not integration.capabilities.get("groups"):
        return
    bound = list(integration.application.authorized_groups.all())
    remote_groups = dict(integration.remote_groups or {})
    with integration_client(integration=integration, on_attempt=attempt_recorder(integration)) as client:
        try:
            for group in bound:
                _group_push(integration=integration, client=client, group=group, remote_groups=remote_groups)
            bound_ids = {str(g.pk) for g in bound}
            for group_id in list(remote_groups):
                if group_id not in bound_ids and ":" not in group_id:
                    _group_delete(
                        integration=integration, client=client, group_id=group_id, remote_groups=remote_groups
                    )
        except ScimError as exc:
            integration_failed(integration=integration, message=exc.message)
        finally:
            Integration.objects.filter(pk=integration.pk).update(remote_groups=remote_groups)


def _group_push(*, integration: Integration, client: ScimClient, group, remote_groups: dict) -> None:
    """Send one bound group with its members; `remote_groups` keeps its id in the app and what was sent."""
    member_ids = list(
        ProvisionedAccount.objects.filter(
            integration=integration, user__user_groups=group, sent_state=AccountState.ACTIVE
        )
        .exclude(remote_id="")
        .values_list("remote_id", flat=True)
    )
    resource = {"type": "group", "id": group.pk, "name": group.name}
    remote_id = remote_groups.get(str(group.pk))
    signature = ",".join(sorted(member_ids)) + "|" + group.name
    if remote_id and remote_groups.get(f"{group.pk}:sent") == signature:
        return  # the app already holds exactly these members
    if remote_id:
        try:
            client.group_replace(remote_id=remote_id, display_name=group.name, member_ids=member_ids)
        except NotFoundError:
            pass  # the app lost it: link to a group of that name, or create one, below
        except RefusedError as exc:
            event_record(
                "group_update_provision", integration=integration, resource=resource, success=False, message=exc.message
            )
            return
        else:
            remote_groups[f"{group.pk}:sent"] = signature
            event_record(
                "group_update_provision",
                integration=integration,
                resource=resource,
                message=f"Members set in the app ({len(member_ids)}).",
            )
            return
    existing = _group_find(integration=integration, client=client, name=group.name)
    try:
        if existing:
            event_type, message = "group_update_provision", "Linked to the app's group of that name."
            remote_groups[str(group.pk)] = str(existing[0]["id"])
            client.group_replace(remote_id=remote_groups[str(group.pk)], display_name=group.name, member_ids=member_ids)
        else:
            event_type, message = "group_create_provision", f"Created in the app with {len(member_ids)} member(s)."
            remote_groups[str(group.pk)] = client.group_create(display_name=group.name, member_ids=member_ids)
    except RefusedError as exc:
        event_record(event_type, integration=integration, resource=resource, success=False, message=exc.message)
        return
    remote_groups[f"{group.pk}:sent"] = signature
    event_record(event_type, integration=integration, resource=resource, message=message)


def _group_find(*, integration: Integration, client: ScimClient, name: str) -> list[dict]:
    """The app's groups of this name; none when the app cannot filter (a group is then created)."""
    if not integration.capabilities.get("filter", True):
        return []
    try:
        return client.group_find(display_name=name)
    except RefusedError:
        return []


def _group_delete(*, integration: Integration, client: ScimClient, group_id: str, remote_groups: dict) -> None:
    """Delete in the app a group no longer bound (already gone counts as deleted)."""
    remote_id = remote_groups[group_id]
    remote_groups.pop(f"{group_id}:sent", None)
    resource = {"type": "group", "id": group_id, "name": remote_id}
    try:
        client.group_delete(remote_id=remote_id)
    except NotFoundError:
        pass
    except RefusedError as exc:
        event_record(
            "group_delete_provision", integration=integration, resource=resource, success=False, message=exc.message
        )
        return
    event_record(
        "group_delete_provision",
        integration=integration,
        resource=resource,
        message="Deleted in the app (no longer bound).",
    )
    del remote_groups[group_id]
