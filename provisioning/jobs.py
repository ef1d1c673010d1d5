"""RQ entry points for provisioning. Each loads its rows by primary key, returns if they are gone, calls a service."""

from directory.models import User
from insights.context import bind

from . import batches, groups, importing
from . import sweep as sweeping
from .models import Integration, ProvisionedAccount


def reconcile(account_id: int) -> None:
    """RQ entry point: bring one remote account in line with the directory."""
    account = ProvisionedAccount.objects.select_related("integration").filter(pk=account_id).first()
    if account is None:
        return
    with bind(initiator_type="system"):
        batches.account_reconcile(account=account)


def reconcile_batch(integration_id: int, account_ids: list[int]) -> None:
    """RQ entry point: reconcile a batch of accounts of one integration over one connection."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    with bind(initiator_type="system"):
        batches.accounts_reconcile(integration=integration, account_ids=account_ids)


def integration_sync(integration_id: int, list_remote: bool = True) -> None:
    """RQ entry point: send every dirty account of an integration (listing the app's users once first)."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    with bind(initiator_type="system"):
        batches.integration_sync(integration=integration, list_remote=list_remote)


def groups_push(integration_id: int) -> None:
    """RQ entry point: push the app's bound groups and their members, for apps that take groups."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    with bind(initiator_type="system"):
        groups.integration_groups_push(integration=integration)


def sweep() -> None:
    """RQ entry point (scheduled): re-queue dirty accounts whose job was lost."""
    with bind(initiator_type="system"):
        sweeping.accounts_sweep()


def full_sync_all() -> None:
    """RQ entry point (scheduled): full sync of every running integration, repairing drift."""
    with bind(initiator_type="system"):
        sweeping.integrations_full_sync_all()


def import_users(integration_id: int, remote_ids: list[str], actor_id: int) -> None:
    """RQ entry point: a large manual import; the admin gets an email when it finishes."""
    integration = Integration.objects.filter(pk=integration_id).first()
    actor = User.objects.filter(pk=actor_id).first()
    if integration is None or actor is None:
        return
    with bind(initiator_type="admin", actor=actor):
        importing.users_import_and_notify(integration=integration, remote_ids=remote_ids, actor=actor)
