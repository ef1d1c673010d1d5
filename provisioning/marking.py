"""Marking accounts dirty: the directory changed, so these app accounts must be reconciled.

Called from the signal receivers inside the directory's own transaction: the marks commit with
the change, and the work is queued only once they have (transaction.on_commit), so a lost job is
found again by the sweep and a rolled-back change queues nothing.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from directory.models import User

from . import queueing, selectors
from .audit import event_record
from .models import Integration, IntegrationStatus, ProvisionedAccount

logger = logging.getLogger(__name__)


def _snapshot(user: User) -> dict:
    """What an account keeps of its user, to deprovision it after the user is gone."""
    return {"id": user.pk, "email": user.email, "username": user.username}


def _accounts_mark(*, integration: Integration, users: Iterable[User], create: bool, enqueue: bool = True) -> list[int]:
    """Flag these users' accounts in one app dirty (creating them when `create`), and queue the work on commit."""
    users = list(users)
    if not users:
        return []
    now = timezone.now()
    existing = {
        user_id: (pk, snapshot)
        for user_id, pk, snapshot in ProvisionedAccount.objects.filter(
            integration=integration, user__in=users
        ).values_list("user_id", "pk", "user_snapshot")
    }
    ids = [pk for pk, _snapshot in existing.values()]
    ProvisionedAccount.objects.filter(pk__in=ids).update(dirty=True, generation=F("generation") + 1, marked_at=now)
    stale = [  # keep the snapshot current (the email may have changed)
        ProvisionedAccount(pk=existing[u.pk][0], user_snapshot=_snapshot(u))
        for u in users
        if u.pk in existing and existing[u.pk][1] != _snapshot(u)
    ]
    ProvisionedAccount.objects.bulk_update(stale, ["user_snapshot"], batch_size=500)
    if create:
        new = ProvisionedAccount.objects.bulk_create(
            [
                ProvisionedAccount(
                    integration=integration, user=u, user_snapshot=_snapshot(u), dirty=True, generation=1, marked_at=now
                )
                for u in users
                if u.pk not in existing
            ],
            batch_size=1000,
        )
        ids += [a.pk for a in new]
    if enqueue and ids and integration.status in (IntegrationStatus.ACTIVE, IntegrationStatus.FAILING):
        integration_id = integration.pk
        transaction.on_commit(
            lambda: queueing.enqueue_accounts(integration_id=integration_id, account_ids=ids), robust=True
        )
    return ids


def _mark_existing(*, integration: Integration, exclude_user_ids: list[int]) -> int:
    return (
        ProvisionedAccount.objects.filter(integration=integration)
        .exclude(user_id__in=exclude_user_ids)
        .update(dirty=True, generation=F("generation") + 1, marked_at=timezone.now())
    )


def _users_affected(*, integration: Integration, users: list[User]) -> list[User]:
    """The users whose account in this app may have to change: in scope now, or holding an account."""
    in_scope = set(
        selectors.users_in_scope(integration=integration)
        .filter(pk__in=[u.pk for u in users])
        .values_list("pk", flat=True)
    )
    has_account = set(integration.accounts.filter(user__in=users).values_list("user_id", flat=True))
    return [u for u in users if u.pk in in_scope or u.pk in has_account]


def accounts_mark_for_users(*, users: Iterable[User], reason: str) -> list[int]:
    """Flag every app account of these users for reconciliation (and create those newly in scope)."""
    users = list(users)
    if not users:
        return []
    marked: list[int] = []
    for integration in selectors.integrations_listening(organization_id=users[0].organization_id).select_related(
        "application"
    ):
        affected = _users_affected(integration=integration, users=users)
        marked += _accounts_mark(integration=integration, users=affected, create=True)
    logger.debug("marked %d account(s) dirty: %s", len(marked), reason)
    return marked


def accounts_mark_user_deleted(*, user: User) -> list[int]:
    """The user is about to be deleted: keep a snapshot on their accounts and flag them for remote deletion."""
    accounts = list(ProvisionedAccount.objects.filter(user=user).select_related("integration"))
    if not accounts:
        return []
    now = timezone.now()
    ids = [a.pk for a in accounts]
    ProvisionedAccount.objects.filter(pk__in=ids).update(
        user_snapshot=_snapshot(user), user_deleted=True, dirty=True, generation=F("generation") + 1, marked_at=now
    )
    for account in accounts:
        if account.integration.status in (IntegrationStatus.ACTIVE, IntegrationStatus.FAILING):
            integration_id, account_ids = account.integration_id, [account.pk]
            transaction.on_commit(
                lambda i=integration_id, a=account_ids: queueing.enqueue_accounts(integration_id=i, account_ids=a),
                robust=True,  # a lost enqueue is picked up by the sweep; it must not undo the directory write
            )
    return ids


def accounts_mark_for_application(*, application, users: Iterable[User], reason: str) -> list[int]:
    """Flag accounts in one app for these users (a group was bound to or unbound from it)."""
    integration = (
        selectors.integrations_listening(organization_id=application.organization_id)
        .filter(application=application)
        .first()
    )
    if integration is None:
        return []
    affected = _users_affected(integration=integration, users=list(users))
    logger.debug("marking %d account(s) dirty: %s", len(affected), reason)
    return _accounts_mark(integration=integration, users=affected, create=True)


def integration_full_sync(*, integration: Integration, actor: User | None = None, record_event: bool = True) -> int:
    """Mark everyone in scope and every existing account dirty, and queue a sync that lists the app once."""
    with transaction.atomic():
        users = list(selectors.users_in_scope(integration=integration))
        count = len(_accounts_mark(integration=integration, users=users, create=True, enqueue=False))
        count += _mark_existing(integration=integration, exclude_user_ids=[u.pk for u in users])
        Integration.objects.filter(pk=integration.pk).update(last_full_sync_at=timezone.now())
        if record_event:
            event_record("idm_integration_update", integration=integration, actor=actor, message="Full sync started.")
        integration_id = integration.pk
        transaction.on_commit(
            lambda: queueing.enqueue_sync(integration_id=integration_id, list_remote=True), robust=True
        )
    return count
