"""Batch runs of reconciles: leases on accounts, a few threads over one client, commits a chunk at a time.

A batch job leases the dirty accounts nobody else holds (a crashed worker's lease expires), runs
the reconciler on them and gives accounts changed meanwhile another pass. A sync lists the app's
users once first, to adopt those it already has and spare a lookup per user.
"""

import logging
import queue
import threading
import uuid
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import mapping, queueing
from .audit import attempt_recorder
from .client import integration_client, integration_failed, integration_succeeded, setting
from .models import AccountState, Integration, ProvisionedAccount
from .reconcile import Reconciler
from .scim_errors import ScimError

logger = logging.getLogger(__name__)

COMMIT_CHUNK = 25  # accounts per transaction within a batch job


def _lease(account_ids: list[int]) -> tuple[str, list[ProvisionedAccount]]:
    """Take a time-limited lease on the accounts nobody else is working on; a crashed worker's lease expires."""
    token = uuid.uuid4().hex
    now = timezone.now()
    until = now + timedelta(seconds=setting("PROVISIONING_LEASE_SECONDS", 120))
    ProvisionedAccount.objects.filter(pk__in=account_ids, dirty=True).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    ).update(lease_token=token, lease_until=until)
    accounts = list(
        ProvisionedAccount.objects.filter(lease_token=token).select_related(
            "user", "integration__application__organization"
        )
    )
    return token, accounts


def accounts_reconcile(*, integration: Integration, account_ids: list[int]) -> int:
    """Reconcile accounts of one integration over one keep-alive client, a few at a time; returns how many synced."""
    integration = Integration.objects.select_related("application__organization").get(pk=integration.pk)
    if not integration.is_running:
        return 0
    in_sync = 0
    pending = list(account_ids)
    concurrency = 1 if connection.vendor == "sqlite" else setting("PROVISIONING_CONCURRENCY", 4)
    with integration_client(integration=integration, on_attempt=attempt_recorder(integration)) as client:
        reconciler = Reconciler(integration=integration, client=client)
        for _round in range(3):  # accounts changed while we worked get another pass
            _token, accounts = _lease(pending)
            if not accounts:
                break
            reconciler.prefetch(accounts)
            one_by_one = accounts
            if integration.capabilities.get("bulk") and setting("PROVISIONING_USE_BULK", True):
                one_by_one = reconciler.bulk_create(accounts)
                in_sync += len(accounts) - len(one_by_one)
            in_sync += _run(reconciler, one_by_one, concurrency=concurrency)
            pending = list(
                ProvisionedAccount.objects.filter(
                    pk__in=[a.pk for a in accounts], dirty=True, last_error=""
                ).values_list("pk", flat=True)
            )
            if not pending:
                break
    if reconciler.succeeded:
        integration_succeeded(integration=integration)
        if integration.capabilities.get("groups"):
            queueing.enqueue_groups_push(integration_id=integration.pk)
    return in_sync


def _run(reconciler: Reconciler, accounts: list[ProvisionedAccount], *, concurrency: int) -> int:
    """Reconcile accounts on up to `concurrency` threads; each thread commits its results a chunk at a time.

    Committing per chunk spares a disk flush per account. A crash loses at most a chunk's bookkeeping,
    which is safe: creates were flagged in flight beforehand, so the next run looks those users up.
    """
    chunks: queue.Queue = queue.Queue()
    for start in range(0, len(accounts), COMMIT_CHUNK):
        chunks.put(accounts[start : start + COMMIT_CHUNK])
    done: list[bool] = []

    def work(close_connection: bool) -> None:
        try:
            while True:
                try:
                    chunk = chunks.get_nowait()
                except queue.Empty:
                    return
                try:
                    with transaction.atomic():
                        deferred: list = []
                        done.extend(reconciler.reconcile(account, deferred=deferred) for account in chunk)
                        reconciler.save_all(deferred)
                except Exception:
                    logger.exception("reconcile of accounts %s failed", [a.pk for a in chunk])
        finally:
            if close_connection:
                connection.close()

    if concurrency <= 1 or len(accounts) <= COMMIT_CHUNK:
        work(close_connection=False)
    else:
        threads = [threading.Thread(target=work, args=(True,)) for _ in range(min(concurrency, chunks.qsize()))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return sum(1 for ok in done if ok)


def account_reconcile(*, account: ProvisionedAccount) -> bool:
    """Bring one remote account in line with the directory; True when it is in sync."""
    return accounts_reconcile(integration=account.integration, account_ids=[account.pk]) == 1


def integration_sync(*, integration: Integration, list_remote: bool) -> int:
    """Send every dirty account of an integration, in batch jobs; with `list_remote`, list the app's users once first.

    Listing adopts app users that match a directory user (by userName, then email), records what the
    app really holds (so drift is repaired) and spares a lookup per user; returns the number of dirty accounts.
    """
    integration = Integration.objects.select_related("application__organization").get(pk=integration.pk)
    if not integration.is_running:
        return 0
    dirty_ids = list(
        ProvisionedAccount.objects.filter(integration=integration, dirty=True).values_list("pk", flat=True)
    )
    if list_remote and dirty_ids:
        with integration_client(integration=integration, on_attempt=attempt_recorder(integration)) as client:
            try:
                remote_users = client.users_all()
            except ScimError as exc:
                integration_failed(integration=integration, message=exc.message)
                remote_users = None
        if remote_users == []:
            # an empty app (the usual first sync): nobody to adopt, no lookups needed; accounts
            # leased by a running reconcile are left alone (their create may be in flight)
            now = timezone.now()
            ProvisionedAccount.objects.filter(pk__in=dirty_ids, remote_id="").filter(
                Q(lease_until__isnull=True) | Q(lease_until__lt=now)
            ).update(lookup_done=True)
        elif remote_users is not None:
            # only accounts nobody is reconciling right now: a listing is a snapshot, older than their work
            _token, accounts = _lease(dirty_ids)
            _adopt_listing(integration=integration, accounts=accounts, remote_users=remote_users)
    queueing.enqueue_batches(integration_id=integration.pk, account_ids=dirty_ids)
    return len(dirty_ids)


def _adopt_listing(*, integration: Integration, accounts, remote_users: list[dict]) -> None:
    """Link leased accounts to the listed app users they match, and record what the app holds."""
    by_username = {str(r.get("userName", "")).lower(): r for r in remote_users}
    by_id = {str(r.get("id")): r for r in remote_users}
    by_email: dict[str, dict] = {}
    for remote in remote_users:
        for email in mapping.remote_emails(remote):
            by_email.setdefault(email, remote)
    changed, unmatched = [], []
    for account in accounts:
        if account.remote_id:
            remote = by_id.get(account.remote_id)
            if remote is None:  # gone from the app: create it again if it should exist
                account.remote_id, account.last_payload, account.sent_state = "", {}, AccountState.NONE
                account.lookup_done = True
            else:  # what the app really holds, so drift is repaired
                account.last_payload = mapping.remote_payload(integration=integration, remote=remote)
            changed.append(account)
            continue
        username = account.email
        if account.user is not None:
            username = mapping.user_payload(integration=integration, user=account.user).get("userName", username)
        remote = by_username.get(str(username).lower()) or by_email.get(account.email.lower())
        if remote is None:
            unmatched.append(account.pk)
            continue
        account.remote_id = str(remote["id"])
        account.last_payload = mapping.remote_payload(integration=integration, remote=remote)
        account.sent_state = AccountState.ACTIVE if account.last_payload.get("active", True) else AccountState.INACTIVE
        account.lookup_done = True
        changed.append(account)
    for account in changed:
        account.lease_token, account.lease_until = "", None
    ProvisionedAccount.objects.bulk_update(
        changed,
        ["remote_id", "last_payload", "sent_state", "lookup_done", "lease_token", "lease_until"],
        batch_size=500,
    )
    ProvisionedAccount.objects.filter(pk__in=unmatched).update(lookup_done=True, lease_token="", lease_until=None)
