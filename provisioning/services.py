"""Writes for provisioning: integrations (activate, update, re-auth, deactivate), marking accounts dirty,
reconciling them against the app over SCIM, the sweep, full syncs and manual import.

The database is the source of truth, not the queue: a directory change marks accounts dirty in
its own transaction and queues work on commit; a reconcile reads what the directory wants now,
compares it with what was last sent and issues the fewest SCIM calls that close the gap.
"""

import logging
import queue
import threading
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.url_policy import url_check
from directory import services as directory_services
from directory.errors import error_sentence
from directory.models import User, UserState
from insights.models import Service
from insights.services import outbound_failure_record, record

from . import queueing, selectors
from .models import AccountState, Integration, IntegrationStatus, ProvisionedAccount
from .ratelimit import RedisRateLimiter
from .scim_client import Attempt, RetryPolicy, ScimClient, ScimError, ScimResult, body_mentions

logger = logging.getLogger(__name__)

BATCH_SIZE = 250  # accounts per batch job
BULK_OPERATIONS = 50  # user creations per SCIM /Bulk request, where the app supports it
COMMIT_CHUNK = 25  # accounts per transaction within a batch job
BULK_THRESHOLD = 20  # more accounts than this at once: one sync job that lists the app's users first
IMPORT_JOB_THRESHOLD = 100  # more users than this selected for import: run it as a job and email the admin


def _setting(name: str, default):
    return getattr(settings, name, default)


# -- events ----------------------------------------------------------------------------------------


def _event(
    event_type: str,
    *,
    integration: Integration,
    success: bool = True,
    message: str = "",
    resource=None,
    actor: User | None = None,
    changes=None,
) -> None:
    record(
        event_type=event_type,
        service=Service.SCIM,
        organization=integration.application.organization,
        resource=resource if resource is not None else integration,
        success=success,
        message=message,
        actor=actor,
        changes=changes,
    )


def _outbound_failed(integration: Integration, detail: str) -> None:
    """Keep what really went wrong talking to the app for the operators (the admin sees only a sentence)."""
    if detail:
        outbound_failure_record(
            service=Service.SCIM,
            organization=integration.application.organization,
            resource={"type": "integration", "id": integration.pk or "", "name": str(integration)},
            detail=detail,
        )


def _account_resource(account: ProvisionedAccount) -> dict:
    user_id = account.user_id or account.user_snapshot.get("id", "")
    return {"type": "user", "id": user_id, "name": account.email}


# -- the client for an integration -----------------------------------------------------------------


def integration_client(
    *, integration: Integration, on_attempt=None, attempts: int | None = None, base_url: str | None = None, token=None
) -> ScimClient:
    """A SCIM client for this integration with its rate limit and the retry policy from settings."""
    redis = queueing.redis_connection()
    return ScimClient(
        base_url=base_url or integration.base_url,
        token=token if token is not None else integration.token,
        limiter=RedisRateLimiter(redis=redis, integration_id=integration.pk or 0, rate=integration.rate_limit),
        policy=RetryPolicy(
            attempts=attempts or _setting("PROVISIONING_RETRY_ATTEMPTS", 5),
            base=_setting("PROVISIONING_RETRY_BASE_SECONDS", 0.5),
            cap=_setting("PROVISIONING_RETRY_CAP_SECONDS", 30.0),
        ),
        on_attempt=on_attempt,
        timeout=_setting("PROVISIONING_HTTP_TIMEOUT", 15.0),
        max_connections=_setting("PROVISIONING_CONCURRENCY", 4) + 2,
    )


# -- integrations ----------------------------------------------------------------------------------


def integration_probe(*, integration: Integration, base_url: str, token: str) -> dict:
    """Ask the app whether this URL and token work; return its capabilities or raise ValidationError in plain words.

    Only a SCIM answer counts: anything else reads "could not reach the app" (the detail goes to the
    operators' event), so the probe cannot be used to tell closed ports, other services and SCIM apps apart.
    """
    url_check(base_url, field="SCIM base URL")
    client = integration_client(integration=integration, attempts=2, base_url=base_url, token=token)
    try:
        with client:
            config = client.service_provider_config()
            if config.status in (401, 403):
                raise ValidationError(client.refusal("describe itself", config))
            spc = config.body if config.status == 200 and isinstance(config.body, dict) else {}
            users = client.users_page(count=1)
            if users.status in (401, 403):
                raise ValidationError(client.refusal("list its users", users))
            if users.status != 200:
                raise ScimError(client.unreachable, detail=f"GET /Users answered HTTP {users.status}.")
            client.resources(users, what="GET /Users")
    except ScimError as exc:  # unreachable, not SCIM, or failing: all read the same (see the docstring)
        _outbound_failed(integration, exc.detail or exc.message)
        raise ValidationError(client.unreachable) from exc
    scim = integration.application.catalog_entry.scim
    operations = list(scim.get("users") or [])
    return {
        "users": operations,
        "delete": "delete" in operations,
        "groups": bool(scim.get("groups")),
        "patch": bool((spc.get("patch") or {}).get("supported", False)),
        "filter": bool((spc.get("filter") or {}).get("supported", False)),
        "max_results": (spc.get("filter") or {}).get("maxResults"),
        "bulk": bool((spc.get("bulk") or {}).get("supported", False)),
        "bulk_max_operations": (spc.get("bulk") or {}).get("maxOperations"),
        "service_provider_config": bool(spc),
    }


def integration_check_change(
    *, integration: Integration, base_url: str, token: str, actor: User | None = None
) -> dict | None:
    """Before saving a new URL or token of a running integration, check them against the app.

    Records the refusal (idm_integration_update or idm_integration_reauth) and raises ValidationError
    in plain words; returns the app's capabilities, or None when nothing needed checking.
    """
    url_changed = base_url != integration.base_url
    if url_changed:
        try:
            url_check(base_url, field="SCIM base URL")
            _token_required(token)
        except ValidationError as exc:
            message = error_sentence(exc)
            _event("idm_integration_update", integration=integration, actor=actor, success=False, message=message)
            raise
    if integration.status == IntegrationStatus.INACTIVE:
        return None
    token_changed = bool(token) and token != integration.token
    if not url_changed and not token_changed:
        return None
    try:
        # a changed URL is only ever probed with the token typed in the same change, never the stored one
        return integration_probe(integration=integration, base_url=base_url, token=token or integration.token)
    except ValidationError as exc:
        event_type = "idm_integration_reauth" if token_changed else "idm_integration_update"
        _event(event_type, integration=integration, actor=actor, success=False, message=exc.messages[0])
        raise


def _token_required(token: str) -> None:
    """A new SCIM base URL comes with the token typed again, so the stored token never goes to a new host."""
    if not token:
        raise ValidationError(
            {
                "token": "Enter the app's API token again to change the SCIM base URL: Lanyard never sends "
                "the stored token to a new address."
            }
        )


def integration_configure(
    *, application, base_url: str, token: str, actor: User | None = None, rate_limit: int | None = None
) -> Integration:
    """Save an app's SCIM URL and token without contacting the app (the integration's status is left as it is)."""
    if not application.catalog_entry.supports_scim:
        raise ValidationError(f"“{application}” does not support SCIM provisioning.")
    _token_required(token)
    integration = Integration.objects.filter(application=application).first() or Integration(application=application)
    integration.base_url, integration.token = base_url, token
    if rate_limit:
        integration.rate_limit = rate_limit
    integration.full_clean()
    integration.save()
    _event(
        "idm_integration_update",
        integration=integration,
        actor=actor,
        message="SCIM URL and token saved (not active yet).",
        changes=[{"field": "base_url", "from": None, "to": base_url}, {"field": "token", "from": None, "to": "set"}],
    )
    return integration


def integration_activate(*, integration: Integration, actor: User | None = None) -> Integration:
    """Verify the URL and token against the app, then turn provisioning on and sync everyone in scope."""
    try:
        capabilities = integration_probe(
            integration=integration, base_url=integration.base_url, token=integration.token
        )
    except ValidationError as exc:
        _event("idm_integration_activate", integration=integration, actor=actor, success=False, message=exc.messages[0])
        raise
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        old = integration.status
        integration.status = IntegrationStatus.ACTIVE
        integration.capabilities = capabilities
        integration.activated_at = timezone.now()
        integration.consecutive_failures = 0
        integration.quarantined_at = None
        integration.last_error = ""
        integration.save()
        _event(
            "idm_integration_activate",
            integration=integration,
            actor=actor,
            message=f"Provisioning to {integration.application} is active.",
            changes=[{"field": "status", "from": old, "to": IntegrationStatus.ACTIVE}],
        )
        integration_full_sync(integration=integration, actor=None, record_event=False)
    return integration


def integration_update_url(
    *, integration: Integration, base_url: str, token: str, actor: User | None = None, verified: bool = False
) -> Integration:
    """Point the integration at a new SCIM base URL with its token entered again (checked with the app when active)."""
    old = integration.base_url
    try:
        url_check(base_url, field="SCIM base URL")
        _token_required(token)
        if integration.status != IntegrationStatus.INACTIVE and not verified:
            integration.capabilities = integration_probe(integration=integration, base_url=base_url, token=token)
    except ValidationError as exc:
        _event(
            "idm_integration_update", integration=integration, actor=actor, success=False, message=error_sentence(exc)
        )
        raise
    integration.base_url, integration.token = base_url, token
    integration.full_clean()
    integration.save()
    _event(
        "idm_integration_update",
        integration=integration,
        actor=actor,
        message="SCIM base URL changed; the API token was entered again with it.",
        changes=[{"field": "base_url", "from": old, "to": base_url}, {"field": "token", "from": "old", "to": "new"}],
    )
    return integration


def integration_reauthenticate(
    *, integration: Integration, token: str, actor: User | None = None, verified: bool = False
) -> Integration:
    """Replace the API token, after checking the new one against the app when provisioning is on."""
    if not token:
        raise ValidationError("Paste the new API token.")
    if integration.status != IntegrationStatus.INACTIVE and not verified:
        try:
            integration_probe(integration=integration, base_url=integration.base_url, token=token)
        except ValidationError as exc:
            _event(
                "idm_integration_reauth", integration=integration, actor=actor, success=False, message=exc.messages[0]
            )
            raise
    integration.token = token
    integration.save()
    _event(
        "idm_integration_reauth",
        integration=integration,
        actor=actor,
        message="API token replaced.",
        changes=[{"field": "token", "from": "old", "to": "new"}],
    )
    return integration


def integration_deactivate(*, integration: Integration, actor: User | None = None) -> Integration:
    """Stop provisioning to the app; accounts there are left as they are."""
    old = integration.status
    integration.status = IntegrationStatus.INACTIVE
    integration.save(update_fields=["status"])
    _event(
        "idm_integration_delete",
        integration=integration,
        actor=actor,
        message=f"Provisioning to {integration.application} is off; accounts in the app were left as they are.",
        changes=[{"field": "status", "from": old, "to": IntegrationStatus.INACTIVE}],
    )
    return integration


def integration_delete(*, integration: Integration, actor: User | None = None) -> None:
    """Remove the integration (token included); accounts in the app are left as they are."""
    _event(
        "idm_integration_delete",
        integration=integration,
        actor=actor,
        message=f"SCIM integration of {integration.application} removed.",
    )
    integration.delete()


def integration_quarantine_lift(*, integration: Integration, actor: User | None = None) -> Integration:
    """Let a quarantined integration talk to the app again, and run a full sync to send what piled up."""
    with transaction.atomic():
        old = integration.status
        integration.status = IntegrationStatus.ACTIVE
        integration.consecutive_failures = 0
        integration.quarantined_at = None
        integration.save(update_fields=["status", "consecutive_failures", "quarantined_at"])
        _event(
            "idm_integration_update",
            integration=integration,
            actor=actor,
            message="Quarantine lifted; a full sync sends what piled up.",
            changes=[{"field": "status", "from": old, "to": IntegrationStatus.ACTIVE}],
        )
        integration_full_sync(integration=integration, actor=actor, record_event=False)
    return integration


def integration_full_sync(*, integration: Integration, actor: User | None = None, record_event: bool = True) -> int:
    """Mark everyone in scope and every existing account dirty, and queue a sync that lists the app once."""
    with transaction.atomic():
        users = list(selectors.users_in_scope(integration=integration))
        count = len(_accounts_mark(integration=integration, users=users, create=True, enqueue=False))
        count += _mark_existing(integration=integration, exclude_user_ids=[u.pk for u in users])
        Integration.objects.filter(pk=integration.pk).update(last_full_sync_at=timezone.now())
        if record_event:
            _event("idm_integration_update", integration=integration, actor=actor, message="Full sync started.")
        integration_id = integration.pk
        transaction.on_commit(
            lambda: queueing.enqueue_sync(integration_id=integration_id, list_remote=True), robust=True
        )
    return count


def _integration_failed(*, integration: Integration, message: str) -> None:
    """Count a failed reconcile; quarantine the integration after too many in a row."""
    limit = _setting("PROVISIONING_QUARANTINE_AFTER", 10)
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        total_failures=F("total_failures") + 1,
        last_error=message,
        last_error_at=now,
        status=Case(
            When(status=IntegrationStatus.QUARANTINED, then=Value(IntegrationStatus.QUARANTINED)),
            When(status=IntegrationStatus.INACTIVE, then=Value(IntegrationStatus.INACTIVE)),
            When(consecutive_failures__gte=limit - 1, then=Value(IntegrationStatus.QUARANTINED)),
            default=Value(IntegrationStatus.FAILING),
        ),
    )
    quarantined = Integration.objects.filter(
        pk=integration.pk, status=IntegrationStatus.QUARANTINED, quarantined_at__isnull=True
    ).update(quarantined_at=now)
    if quarantined:
        _event(
            "idm_integration_update",
            integration=integration,
            success=False,
            message=f"Quarantined after {limit} failures in a row: {message} "
            "Fix the app side, then lift the quarantine.",
        )


def _integration_succeeded(*, integration: Integration) -> None:
    Integration.objects.filter(pk=integration.pk, consecutive_failures__gt=0).exclude(
        status=IntegrationStatus.QUARANTINED
    ).update(
        consecutive_failures=0,
        status=Case(When(status=IntegrationStatus.FAILING, then=Value(IntegrationStatus.ACTIVE)), default=F("status")),
    )


# -- marking accounts dirty (called from the signal receivers, inside the directory's transaction) --


def _snapshot(user: User) -> dict:
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


# -- reconcile ---------------------------------------------------------------------------------------


class _Reconciler:
    """Brings accounts of one integration in line with the directory, over one shared SCIM client."""

    def __init__(self, *, integration: Integration, client: ScimClient):
        self.integration = integration
        self.client = client
        self.capabilities = integration.capabilities or {}
        self._remote_cache: list[dict] | None = None
        self._cache_lock = threading.Lock()
        self._in_scope: set[int] | None = None  # user ids, when prefetched for a batch
        self.succeeded = False

    def prefetch(self, accounts: list[ProvisionedAccount]) -> None:
        """Read the scope of a whole batch in one query, and mark its creates as in flight in one write."""
        user_ids = [a.user_id for a in accounts if a.user_id]
        self._in_scope = set(
            selectors.users_in_scope(integration=self.integration).filter(pk__in=user_ids).values_list("pk", flat=True)
        )
        in_flight = [a.pk for a in accounts if a.lookup_done and not a.remote_id]
        ProvisionedAccount.objects.filter(pk__in=in_flight).update(lookup_done=False)
        for account in accounts:
            account.create_marked = account.pk in in_flight

    # lookups
    def _find(self, account: ProvisionedAccount) -> dict | None:
        """The app's user for this account, by userName then email (None when the app has none)."""
        payload = self._desired_payload(account)
        username = payload.get("userName") or account.email
        email = account.email
        if self.capabilities.get("filter", True):
            for attribute, value in (("userName", username), ("emails.value", email)):
                if not value:
                    continue
                result = self.client.user_find(attribute=attribute, value=value)
                if result.status == 200:
                    found = self.client.resources(result, what="GET /Users?filter")
                    if found:
                        return found[0]
                    continue
                self._lookup_failed(account, result)
                if result.status == 400:  # the app cannot filter after all: fall back to listing
                    break
                raise ScimError(self.client.refusal("look the user up", result), status=result.status, permanent=True)
            else:
                return None
        return self._find_in_listing(username=username, email=email)

    def _find_in_listing(self, *, username: str, email: str) -> dict | None:
        with self._cache_lock:
            if self._remote_cache is None:
                self._remote_cache = self.client.users_all()
        for remote in self._remote_cache:
            if str(remote.get("userName", "")).lower() == (username or "").lower():
                return remote
        for remote in self._remote_cache:
            entries = remote.get("emails") if isinstance(remote.get("emails"), list) else []
            emails = [str(e.get("value", "")).lower() for e in entries if isinstance(e, dict)]
            if email and email.lower() in emails:
                return remote
        return None

    def _lookup_failed(self, account: ProvisionedAccount, result: ScimResult) -> None:
        _event(
            "user_lookup_provision",
            integration=self.integration,
            resource=_account_resource(account),
            success=False,
            message=self.client.refusal("look the user up", result),
        )

    def _desired_payload(self, account: ProvisionedAccount) -> dict:
        if account.user is None:
            return {"userName": account.user_snapshot.get("email", "")}
        return selectors.user_payload(integration=self.integration, user=account.user)

    def desired(self, account: ProvisionedAccount) -> tuple[str, dict]:
        """What the app should hold for this account: (state, flat payload)."""
        user = account.user
        if user is None or account.user_deleted:
            return AccountState.DELETED, {}
        if self._in_scope is not None:
            in_scope = user.pk in self._in_scope
        else:
            in_scope = selectors.user_in_scope(integration=self.integration, user=user)
        if not in_scope:
            return AccountState.INACTIVE, {}
        payload = selectors.user_payload(integration=self.integration, user=user)
        return (AccountState.ACTIVE if user.state == UserState.ACTIVE else AccountState.INACTIVE), payload

    # the work
    def reconcile(self, account: ProvisionedAccount, *, deferred: list | None = None) -> bool:
        """Reconcile one leased account; True when it is in sync afterwards.

        With `deferred`, the bookkeeping is collected there for `save_all` (one write per chunk).
        """
        generation = account.generation
        try:
            state, payload = self.desired(account)
            self._apply(account, state, payload)
        except ScimError as exc:
            account.last_error = exc.message
            self._save(account, generation=generation, clean=exc.permanent, deferred=deferred)
            _integration_failed(integration=self.integration, message=exc.message)
            return False
        account.last_error = ""
        account.last_synced_at = timezone.now()
        self._save(account, generation=generation, clean=True, deferred=deferred)
        self.succeeded = True
        return True

    def bulk_create(self, accounts: list[ProvisionedAccount]) -> list[ProvisionedAccount]:
        """Create the accounts known to be missing from the app with SCIM /Bulk, a chunk per request.

        Returns the accounts left for the one-by-one path: everything else, and any operation the
        app did not answer with 201 (a 409 is then looked up and adopted, an error reported).
        """
        candidates, rest = [], []
        for account in accounts:
            if account.remote_id or not account.lookup_done:
                rest.append(account)
                continue
            state, payload = self.desired(account)
            if state == AccountState.ACTIVE:
                candidates.append((account, payload))
            else:
                rest.append(account)
        if len(candidates) < 2:
            return rest + [account for account, _payload in candidates]
        size = max(1, min(BULK_OPERATIONS, self.capabilities.get("bulk_max_operations") or BULK_OPERATIONS))
        for start in range(0, len(candidates), size):
            chunk = candidates[start : start + size]
            try:
                result = self.client.users_bulk_create(payloads=[(str(a.pk), _nested(p)) for a, p in chunk])
            except ScimError:
                result = None
            operations = (result.body or {}).get("Operations") or [] if result and result.status == 200 else []
            answers = {str(op.get("bulkId")): op for op in operations if isinstance(op, dict)}
            with transaction.atomic():
                deferred: list = []
                for account, payload in chunk:
                    answer = answers.get(str(account.pk)) or {}
                    location = str(answer.get("location") or "")
                    if str(answer.get("status")) != "201" or not location:
                        rest.append(account)
                        continue
                    account.remote_id = location.rstrip("/").rsplit("/", 1)[-1]
                    account.lookup_done, account.last_payload = True, payload
                    account.sent_state = account.desired_state = AccountState.ACTIVE
                    account.last_error, account.last_synced_at = "", timezone.now()
                    _event(
                        "user_create_provision",
                        integration=self.integration,
                        resource=_account_resource(account),
                        message="Created in the app.",
                    )
                    deferred.append((account, account.generation, True))
                self.save_all(deferred)
            if deferred:
                self.succeeded = True
        return rest

    SAVED_FIELDS = (
        "remote_id",
        "lookup_done",
        "desired_state",
        "sent_state",
        "last_payload",
        "last_error",
        "last_synced_at",
        "lease_token",
        "lease_until",
    )

    @classmethod
    def save_all(cls, deferred: list) -> None:
        """Write the bookkeeping of a chunk of reconciles: one bulk update, one update clearing `dirty`."""
        if not deferred:
            return
        accounts = [account for account, _generation, _clean in deferred]
        for account in accounts:
            account.lease_token, account.lease_until = "", None
        ProvisionedAccount.objects.bulk_update(accounts, cls.SAVED_FIELDS)
        clean = Q(pk__in=[])
        for account, generation, is_clean in deferred:
            if is_clean:  # a change made while we worked bumped the generation: it stays dirty
                clean |= Q(pk=account.pk, generation=generation)
        ProvisionedAccount.objects.filter(clean).update(dirty=False)

    def _apply(self, account: ProvisionedAccount, state: str, payload: dict) -> None:
        account.desired_state = state
        if not account.remote_id:
            # lookup_done False: never searched, or a create may have reached the app unrecorded (crash)
            if not account.lookup_done:
                remote = self._find(account)
                if remote is not None:
                    self._adopt(account, remote)
                else:
                    account.lookup_done = True
            if not account.remote_id:
                if state == AccountState.ACTIVE:
                    self._create(account, payload)
                return
        if state == AccountState.DELETED:
            self._delete(account)
        elif state == AccountState.INACTIVE:
            if account.sent_state != AccountState.INACTIVE or account.last_payload.get("active") is not False:
                self._update(account, {**account.last_payload, "active": False}, event="user_deprovision")
                account.sent_state = AccountState.INACTIVE
        else:
            self._update(account, payload, event="user_update_provision")
            account.sent_state = AccountState.ACTIVE

    def _adopt(self, account: ProvisionedAccount, remote: dict) -> None:
        account.remote_id = str(remote["id"])
        account.lookup_done = True
        account.last_payload = selectors.remote_payload(integration=self.integration, remote=remote)
        account.sent_state = AccountState.ACTIVE if account.last_payload.get("active", True) else AccountState.INACTIVE
        ProvisionedAccount.objects.filter(pk=account.pk).update(
            remote_id=account.remote_id,
            lookup_done=True,
            last_payload=account.last_payload,
            sent_state=account.sent_state,
        )

    def _create(self, account: ProvisionedAccount, payload: dict) -> None:
        if account.lookup_done and not getattr(account, "create_marked", False):
            # a create is in flight: if we crash after the app answers, the next run looks the user up first
            ProvisionedAccount.objects.filter(pk=account.pk).update(lookup_done=False)
            account.lookup_done = False
        result = self.client.user_create(payload=_nested(payload))
        resource = _account_resource(account)
        if result.status == 201 and isinstance(result.body, dict) and result.body.get("id"):
            account.remote_id = str(result.body["id"])
            account.lookup_done = True
            account.last_payload = payload
            account.sent_state = AccountState.ACTIVE
            _event(
                "user_create_provision", integration=self.integration, resource=resource, message="Created in the app."
            )
            return
        if result.status == 409:
            remote = self._find(account)
            if remote is not None:
                self._adopt(account, remote)
                _event(
                    "user_create_provision",
                    integration=self.integration,
                    resource=resource,
                    message="Already in the app; linked to the existing account.",
                )
                self._update(account, payload, event="user_update_provision")
                account.sent_state = AccountState.ACTIVE
                return
        message = self.client.refusal("create the user", result)
        _event("user_create_provision", integration=self.integration, resource=resource, success=False, message=message)
        raise ScimError(message, status=result.status, permanent=True)

    def _update(self, account: ProvisionedAccount, payload: dict, *, event: str) -> None:
        changes = {path: value for path, value in payload.items() if account.last_payload.get(path) != value}
        if not changes:
            return
        resource = _account_resource(account)
        if self.capabilities.get("patch", True):
            result = self.client.user_patch(remote_id=account.remote_id, changes=changes)
            if result.status == 501 or (result.status in (400, 405) and body_mentions(result.body, "patch")):
                self.capabilities["patch"] = False  # remembered, so later runs go straight to PUT
                Integration.objects.filter(pk=self.integration.pk).update(capabilities=dict(self.capabilities))
        if not self.capabilities.get("patch", True):
            result = self.client.user_replace(
                remote_id=account.remote_id, payload=_nested({**account.last_payload, **payload})
            )
        if result.status in (200, 204):
            account.last_payload = {**account.last_payload, **payload}
            if event == "user_deprovision":
                message = "Deactivated in the app."
            elif changes.get("active") is True:
                message = "Reactivated in the app."
            else:
                message = "Updated in the app: " + ", ".join(sorted(changes)) + "."
            _event(
                event,
                integration=self.integration,
                resource=resource,
                message=message,
                changes=[
                    {"field": p, "from": account.last_payload.get(p), "to": v}
                    for p, v in changes.items()
                    if p != "emails"
                ],
            )
            return
        if result.status == 404:  # the app lost the user: create it again
            account.remote_id, account.lookup_done, account.last_payload = "", True, {}
            account.sent_state = AccountState.NONE
            if payload.get("active", True) and event != "user_deprovision":
                self._create(account, payload)
            return
        message = self.client.refusal("update the user", result)
        _event(event, integration=self.integration, resource=resource, success=False, message=message)
        raise ScimError(message, status=result.status, permanent=True)

    def _delete(self, account: ProvisionedAccount) -> None:
        resource = _account_resource(account)
        if not self.capabilities.get("delete", False):
            if account.last_payload.get("active") is not False:
                self._update(account, {**account.last_payload, "active": False}, event="user_delete_provision")
            account.sent_state = AccountState.INACTIVE
            return
        result = self.client.user_delete(remote_id=account.remote_id)
        if result.status in (200, 204, 404):
            _event(
                "user_delete_provision", integration=self.integration, resource=resource, message="Deleted in the app."
            )
            account.remote_id, account.sent_state, account.last_payload = "", AccountState.DELETED, {}
            return
        message = self.client.refusal("delete the user", result)
        _event("user_delete_provision", integration=self.integration, resource=resource, success=False, message=message)
        raise ScimError(message, status=result.status, permanent=True)

    def _save(self, account: ProvisionedAccount, *, generation: int, clean: bool, deferred: list | None) -> None:
        """Store what was sent and release the lease; stay dirty if the directory changed meanwhile."""
        if deferred is not None:
            deferred.append((account, generation, clean))
            return
        ProvisionedAccount.objects.filter(pk=account.pk).update(
            remote_id=account.remote_id,
            lookup_done=account.lookup_done,
            desired_state=account.desired_state,
            sent_state=account.sent_state,
            last_payload=account.last_payload,
            last_error=account.last_error,
            last_synced_at=account.last_synced_at,
            lease_token="",
            lease_until=None,
            dirty=Case(When(generation=generation, then=Value(not clean)), default=Value(True)),
        )


def _nested(flat: dict) -> dict:
    """{"name.givenName": "A"} → {"name": {"givenName": "A"}} for POST and PUT bodies."""
    nested: dict = {}
    for path, value in flat.items():
        parts = path.split(".")
        target = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return nested


def _lease(account_ids: list[int]) -> tuple[str, list[ProvisionedAccount]]:
    """Take a time-limited lease on the accounts nobody else is working on; a crashed worker's lease expires."""
    token = uuid.uuid4().hex
    now = timezone.now()
    until = now + timedelta(seconds=_setting("PROVISIONING_LEASE_SECONDS", 120))
    ProvisionedAccount.objects.filter(pk__in=account_ids, dirty=True).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    ).update(lease_token=token, lease_until=until)
    accounts = list(
        ProvisionedAccount.objects.filter(lease_token=token).select_related(
            "user", "integration__application__organization"
        )
    )
    return token, accounts


def _attempt_recorder(integration: Integration):
    """An on_attempt callback that writes an event for failed attempts (successes get their own event)."""

    def on_attempt(attempt: Attempt) -> None:
        if attempt.detail:  # no usable answer: the organization reads one sentence, the operators the detail
            _outbound_failed(integration, attempt.detail)
            message = f"{attempt.method} {attempt.path}: {attempt.message}"
        elif attempt.status is not None and attempt.status < 400:
            return
        else:
            message = f"{attempt.method} {attempt.path}: HTTP {attempt.status}" + (
                f" — {attempt.message}" if attempt.message else ""
            )
        _event(
            "scim_request",
            integration=integration,
            success=False,
            resource={"type": "integration", "id": integration.pk, "name": str(integration)},
            message=message + ("" if attempt.final else " (will retry)"),
        )

    return on_attempt


def accounts_reconcile(*, integration: Integration, account_ids: list[int]) -> int:
    """Reconcile accounts of one integration over one keep-alive client, a few at a time; returns how many synced."""
    integration = Integration.objects.select_related("application__organization").get(pk=integration.pk)
    if not integration.is_running:
        return 0
    in_sync = 0
    pending = list(account_ids)
    concurrency = 1 if connection.vendor == "sqlite" else _setting("PROVISIONING_CONCURRENCY", 4)
    with integration_client(integration=integration, on_attempt=_attempt_recorder(integration)) as client:
        reconciler = _Reconciler(integration=integration, client=client)
        for _round in range(3):  # accounts changed while we worked get another pass
            _token, accounts = _lease(pending)
            if not accounts:
                break
            reconciler.prefetch(accounts)
            one_by_one = accounts
            if integration.capabilities.get("bulk") and _setting("PROVISIONING_USE_BULK", True):
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
        _integration_succeeded(integration=integration)
        if integration.capabilities.get("groups"):
            queueing.enqueue_groups_push(integration_id=integration.pk)
    return in_sync


def _run(reconciler: _Reconciler, accounts: list[ProvisionedAccount], *, concurrency: int) -> int:
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
        with integration_client(integration=integration, on_attempt=_attempt_recorder(integration)) as client:
            try:
                remote_users = client.users_all()
            except ScimError as exc:
                _integration_failed(integration=integration, message=exc.message)
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
    by_username = {str(r.get("userName", "")).lower(): r for r in remote_users}
    by_id = {str(r.get("id")): r for r in remote_users}
    by_email: dict[str, dict] = {}
    for remote in remote_users:
        for entry in remote.get("emails") if isinstance(remote.get("emails"), list) else []:
            if isinstance(entry, dict) and entry.get("value"):
                by_email.setdefault(str(entry["value"]).lower(), remote)
    changed, unmatched = [], []
    for account in accounts:
        if account.remote_id:
            remote = by_id.get(account.remote_id)
            if remote is None:  # gone from the app: create it again if it should exist
                account.remote_id, account.last_payload, account.sent_state = "", {}, AccountState.NONE
                account.lookup_done = True
            else:  # what the app really holds, so drift is repaired
                account.last_payload = selectors.remote_payload(integration=integration, remote=remote)
            changed.append(account)
            continue
        username = account.email
        if account.user is not None:
            username = selectors.user_payload(integration=integration, user=account.user).get("userName", username)
        remote = by_username.get(str(username).lower()) or by_email.get(account.email.lower())
        if remote is None:
            unmatched.append(account.pk)
            continue
        account.remote_id = str(remote["id"])
        account.last_payload = selectors.remote_payload(integration=integration, remote=remote)
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
    with integration_client(integration=integration, on_attempt=_attempt_recorder(integration)) as client:
        try:
            for group in bound:
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
                    continue  # the app already holds exactly these members
                if remote_id:
                    result = client.group_replace(remote_id=remote_id, display_name=group.name, member_ids=member_ids)
                    if result.status in (200, 204):
                        remote_groups[f"{group.pk}:sent"] = signature
                        _event(
                            "group_update_provision",
                            integration=integration,
                            resource=resource,
                            message=f"Members set in the app ({len(member_ids)}).",
                        )
                        continue
                    if result.status != 404:
                        _event(
                            "group_update_provision",
                            integration=integration,
                            resource=resource,
                            success=False,
                            message=client.refusal("update the group", result),
                        )
                        continue
                existing = []
                if integration.capabilities.get("filter", True):  # else: nothing to search with, create
                    found = client.group_find(display_name=group.name)
                    existing = client.resources(found, what="GET /Groups?filter") if found.status == 200 else []
                if existing:
                    remote_groups[str(group.pk)] = str(existing[0]["id"])
                    result = client.group_replace(
                        remote_id=remote_groups[str(group.pk)], display_name=group.name, member_ids=member_ids
                    )
                    ok = result.status in (200, 204)
                    if ok:
                        remote_groups[f"{group.pk}:sent"] = signature
                    _event(
                        "group_update_provision",
                        integration=integration,
                        resource=resource,
                        success=ok,
                        message="Linked to the app's group of that name."
                        if ok
                        else client.refusal("update the group", result),
                    )
                    continue
                result = client.group_create(display_name=group.name, member_ids=member_ids)
                if result.status == 201 and isinstance(result.body, dict):
                    remote_groups[str(group.pk)] = str(result.body["id"])
                    remote_groups[f"{group.pk}:sent"] = signature
                    _event(
                        "group_create_provision",
                        integration=integration,
                        resource=resource,
                        message=f"Created in the app with {len(member_ids)} member(s).",
                    )
                else:
                    _event(
                        "group_create_provision",
                        integration=integration,
                        resource=resource,
                        success=False,
                        message=client.refusal("create the group", result),
                    )
            bound_ids = {str(g.pk) for g in bound}
            for group_id, remote_id in list(remote_groups.items()):
                if group_id in bound_ids or ":" in group_id:
                    continue
                remote_groups.pop(f"{group_id}:sent", None)
                result = client.group_delete(remote_id=remote_id)
                resource = {"type": "group", "id": group_id, "name": remote_id}
                ok = result.status in (200, 204, 404)
                _event(
                    "group_delete_provision",
                    integration=integration,
                    resource=resource,
                    success=ok,
                    message="Deleted in the app (no longer bound)."
                    if ok
                    else client.refusal("delete the group", result),
                )
                if ok:
                    del remote_groups[group_id]
        except ScimError as exc:
            _integration_failed(integration=integration, message=exc.message)
        finally:
            Integration.objects.filter(pk=integration.pk).update(remote_groups=remote_groups)


def accounts_sweep() -> int:
    """Re-queue dirty accounts whose job was lost (nobody holds them and they were marked a while ago)."""
    now = timezone.now()
    grace = timedelta(seconds=_setting("PROVISIONING_SWEEP_GRACE_SECONDS", 120))
    stale = (
        ProvisionedAccount.objects.filter(
            dirty=True,
            marked_at__lt=now - grace,
            integration__status__in=(IntegrationStatus.ACTIVE, IntegrationStatus.FAILING),
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("integration_id", "pk")
    )
    by_integration: dict[int, list[int]] = {}
    for integration_id, pk in stale:
        by_integration.setdefault(integration_id, []).append(pk)
    for integration_id, ids in by_integration.items():
        queueing.enqueue_batches(integration_id=integration_id, account_ids=ids)
    return sum(len(ids) for ids in by_integration.values())


def integrations_full_sync_all() -> int:
    """Full sync of every running integration (the nightly drift repair)."""
    integrations = Integration.objects.filter(status__in=(IntegrationStatus.ACTIVE, IntegrationStatus.FAILING))
    for integration in integrations:
        integration_full_sync(integration=integration)
    return len(integrations)


# -- manual import -----------------------------------------------------------------------------------


def import_candidates(*, integration: Integration, only_new: bool = False) -> list[dict]:
    """The app's active users beside the directory: each {id, userName, email, name, status New|Imported}."""
    url_check(integration.base_url, field="SCIM base URL")  # a URL stored before the policy is refused here
    with integration_client(integration=integration) as client:
        try:
            remote_users = client.users_all()
        except ScimError as exc:  # only a token refusal is told apart; anything else reads "could not reach"
            _outbound_failed(integration, exc.detail or exc.message)
            raise ValidationError(exc.message if exc.status in (401, 403) else client.unreachable) from exc
    organization = integration.application.organization
    known = {e.lower() for e in User.objects.filter(organization=organization).values_list("email", flat=True)}
    rows = []
    for remote in remote_users:
        if remote.get("active") is False:
            continue  # suspended in the app: not offered
        email = _remote_email(remote)
        name = remote.get("name") if isinstance(remote.get("name"), dict) else {}
        row = {
            "id": str(remote.get("id")),
            "userName": _text(remote.get("userName")),
            "email": email,
            "first_name": _text(name.get("givenName"))[:150],
            "last_name": _text(name.get("familyName"))[:150],
            "status": "Imported" if email.lower() in known else "New",
        }
        if only_new and row["status"] != "New":
            continue
        rows.append(row)
    return sorted(rows, key=lambda r: r["email"])


def _text(value) -> str:
    """A string attribute of a remote user; anything else (a hostile or odd app's answer) reads as empty."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _remote_email(remote: dict) -> str:
    entries = remote.get("emails") if isinstance(remote.get("emails"), list) else []
    emails = [e for e in entries if isinstance(e, dict) and _text(e.get("value"))]
    primary = next((e for e in emails if e.get("primary") is True), emails[0] if emails else None)
    if primary:
        return _text(primary["value"]).lower()
    username = _text(remote.get("userName"))
    return username.lower() if "@" in username else ""


def users_import(*, integration: Integration, remote_ids: list[str], actor: User | None = None) -> dict:
    """Create directory users for these app users (New ones only); returns counts of imported/skipped/failed."""
    wanted = set(remote_ids)
    candidates = [c for c in import_candidates(integration=integration) if c["id"] in wanted]
    organization = integration.application.organization
    counts = {"imported": 0, "skipped": 0, "failed": 0}
    for row in candidates:
        resource = {"type": "user", "id": "", "name": row["email"] or row["userName"]}
        if row["status"] != "New":
            counts["skipped"] += 1
            continue
        if not row["email"]:
            counts["failed"] += 1
            _event(
                "user_import",
                integration=integration,
                actor=actor,
                resource=resource,
                success=False,
                message=f"{row['userName']} has no email address in the app; add one there, then import again.",
            )
            continue
        try:
            user = directory_services.user_create(
                organization=organization,
                email=row["email"],
                actor=actor,
                first_name=row["first_name"] or "",
                last_name=row["last_name"] or "",
            )
        except ValidationError as exc:
            counts["failed"] += 1
            _event(
                "user_import",
                integration=integration,
                actor=actor,
                resource=resource,
                success=False,
                message=f"Could not import {row['email']}: {error_sentence(exc)}",
            )
            continue
        counts["imported"] += 1
        _event(
            "user_import",
            integration=integration,
            actor=actor,
            resource=user,
            message=f"Imported from {integration.application}.",
        )
    return counts


def users_import_start(*, integration: Integration, remote_ids: list[str], actor: User) -> dict | None:
    """Import now, or as a job (with an email to the admin when done) for more than 100 users."""
    if len(remote_ids) > IMPORT_JOB_THRESHOLD:
        integration_id, actor_id = integration.pk, actor.pk
        transaction.on_commit(
            lambda: queueing.enqueue_import(integration_id=integration_id, remote_ids=remote_ids, actor_id=actor_id)
        )
        return None
    return users_import(integration=integration, remote_ids=remote_ids, actor=actor)


def users_import_and_notify(*, integration: Integration, remote_ids: list[str], actor: User) -> dict:
    """The job body of a large import: import, then email the admin the outcome."""
    counts = users_import(integration=integration, remote_ids=remote_ids, actor=actor)
    send_mail(
        subject=f"Import from {integration.application} finished",
        message=(
            f"The import of {len(remote_ids)} user(s) from {integration.application} has finished: "
            f"{counts['imported']} imported, {counts['skipped']} already in the directory, {counts['failed']} failed. "
            "The event log lists each one."
        ),
        from_email=None,
        recipient_list=[actor.email],
    )
    return counts
