"""The reconciler: brings the app's copy of an account in line with what the directory wants now.

It reads the desired state (deleted, inactive, active with a payload), compares it with what was
last sent and issues the fewest SCIM calls that close the gap. The client raises typed errors
(scim_errors.py), so each step below reads as a decision: a user the app already has is adopted,
one it lost is created again, an app without PATCH gets a PUT.
"""

import threading

from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from directory.models import UserState

from . import mapping, selectors
from .audit import account_resource, event_record
from .client import integration_failed
from .models import AccountState, Integration, ProvisionedAccount
from .scim_client import ScimClient
from .scim_errors import ConflictError, NotFoundError, RefusedError, ScimError, UnsupportedError

BULK_OPERATIONS = 50  # user creations per SCIM /Bulk request, where the app supports it

# What a reconcile writes back to an account (with `dirty`, cleared only if nothing changed meanwhile).
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


class Reconciler:
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
        payload = mapping.user_payload(integration=self.integration, user=user)
        return (AccountState.ACTIVE if user.state == UserState.ACTIVE else AccountState.INACTIVE), payload

    def reconcile(self, account: ProvisionedAccount, *, deferred: list | None = None) -> bool:
        """Reconcile one leased account; True when it is in sync afterwards.

        With `deferred`, the bookkeeping is collected there for `save_all` (one write per chunk).
        """
        generation = account.generation
        try:
            state, payload = self.desired(account)
            self._apply(account, state, payload)
        except ScimError as exc:  # a transient error leaves the account dirty, to be tried again
            account.last_error = exc.message
            self._save(account, generation=generation, clean=exc.permanent, deferred=deferred)
            integration_failed(integration=self.integration, message=exc.message)
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
                answers = self.client.users_bulk_create(payloads=[(str(a.pk), mapping.nested(p)) for a, p in chunk])
            except ScimError:  # the whole chunk goes the one-by-one way
                answers = {}
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
                    self._event("user_create_provision", account, "Created in the app.")
                    deferred.append((account, account.generation, True))
                self.save_all(deferred)
            if deferred:
                self.succeeded = True
        return rest

    @staticmethod
    def save_all(deferred: list) -> None:
        """Write the bookkeeping of a chunk of reconciles: one bulk update, one update clearing `dirty`."""
        if not deferred:
            return
        accounts = [account for account, _generation, _clean in deferred]
        for account in accounts:
            account.lease_token, account.lease_until = "", None
        ProvisionedAccount.objects.bulk_update(accounts, SAVED_FIELDS)
        clean = Q(pk__in=[])
        for account, generation, is_clean in deferred:
            if is_clean:  # a change made while we worked bumped the generation: it stays dirty
                clean |= Q(pk=account.pk, generation=generation)
        ProvisionedAccount.objects.filter(clean).update(dirty=False)

    # -- deciding what to send -------------------------------------------------------------------
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

    def _find(self, account: ProvisionedAccount) -> dict | None:
        """The app's user for this account, by userName then email (None when the app has none)."""
        username = self._desired_username(account)
        email = account.email
        if self.capabilities.get("filter", True):
            try:
                for attribute, value in (("userName", username), ("emails.value", email)):
                    if value and (found := self.client.user_find(attribute=attribute, value=value)):
                        return found[0]
                return None
            except UnsupportedError as exc:  # the app cannot filter after all: fall back to listing
                self._event("user_lookup_provision", account, exc.message, success=False)
            except RefusedError as exc:
                self._event("user_lookup_provision", account, exc.message, success=False)
                raise
        return self._find_in_listing(username=username, email=email)

    def _find_in_listing(self, *, username: str, email: str) -> dict | None:
        with self._cache_lock:  # one listing per run, shared by the threads
            if self._remote_cache is None:
                self._remote_cache = self.client.users_all()
        for remote in self._remote_cache:
            if str(remote.get("userName", "")).lower() == (username or "").lower():
                return remote
        for remote in self._remote_cache:
            if email and email.lower() in mapping.remote_emails(remote):
                return remote
        return None

    def _desired_username(self, account: ProvisionedAccount) -> str:
        if account.user is None:
            return account.user_snapshot.get("email", "") or account.email
        payload = mapping.user_payload(integration=self.integration, user=account.user)
        return payload.get("userName") or account.email

    # -- the SCIM calls --------------------------------------------------------------------------
    def _adopt(self, account: ProvisionedAccount, remote: dict) -> None:
        account.remote_id = str(remote["id"])
        account.lookup_done = True
        account.last_payload = mapping.remote_payload(integration=self.integration, remote=remote)
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
        try:
            remote = self.client.user_create(payload=mapping.nested(payload))
        except ConflictError as exc:  # the app already has this user: link to it, then send what differs
            remote = self._find(account)
            if remote is None:
                self._event("user_create_provision", account, exc.message, success=False)
                raise
            self._adopt(account, remote)
            self._event("user_create_provision", account, "Already in the app; linked to the existing account.")
            self._update(account, payload, event="user_update_provision")
            account.sent_state = AccountState.ACTIVE
            return
        except RefusedError as exc:
            self._event("user_create_provision", account, exc.message, success=False)
            raise
        account.remote_id = str(remote["id"])
        account.lookup_done = True
        account.last_payload = payload
        account.sent_state = AccountState.ACTIVE
        self._event("user_create_provision", account, "Created in the app.")

    def _update(self, account: ProvisionedAccount, payload: dict, *, event: str) -> None:
        changes = {path: value for path, value in payload.items() if account.last_payload.get(path) != value}
        if not changes:
            return
        try:
            self._send_changes(account, payload, changes)
        except NotFoundError:  # the app lost the user: create it again
            account.remote_id, account.lookup_done, account.last_payload = "", True, {}
            account.sent_state = AccountState.NONE
            if payload.get("active", True) and event != "user_deprovision":
                self._create(account, payload)
            return
        except RefusedError as exc:
            self._event(event, account, exc.message, success=False)
            raise
        # read "from" before last_payload takes the new values
        fields = [
            {"field": p, "from": account.last_payload.get(p), "to": v} for p, v in changes.items() if p != "emails"
        ]
        account.last_payload = {**account.last_payload, **payload}
        if event == "user_deprovision":
            message = "Deactivated in the app."
        elif changes.get("active") is True:
            message = "Reactivated in the app."
        else:
            message = "Updated in the app: " + ", ".join(sorted(changes)) + "."
        self._event(event, account, message, changes=fields)

    def _send_changes(self, account: ProvisionedAccount, payload: dict, changes: dict) -> None:
        """PATCH the changed attributes; PUT the whole user to an app without PATCH."""
        if self.capabilities.get("patch", True):
            try:
                self.client.user_patch(remote_id=account.remote_id, changes=changes)
                return
            except UnsupportedError:
                self.capabilities["patch"] = False  # remembered, so later runs go straight to PUT
                Integration.objects.filter(pk=self.integration.pk).update(capabilities=dict(self.capabilities))
        self.client.user_replace(
            remote_id=account.remote_id, payload=mapping.nested({**account.last_payload, **payload})
        )

    def _delete(self, account: ProvisionedAccount) -> None:
        if not self.capabilities.get("delete", False):  # an app without DELETE keeps the user, deactivated
            if account.last_payload.get("active") is not False:
                self._update(account, {**account.last_payload, "active": False}, event="user_delete_provision")
            account.sent_state = AccountState.INACTIVE
            return
        try:
            self.client.user_delete(remote_id=account.remote_id)
        except NotFoundError:
            pass  # already gone from the app: that is what was wanted
        except RefusedError as exc:
            self._event("user_delete_provision", account, exc.message, success=False)
            raise
        self._event("user_delete_provision", account, "Deleted in the app.")
        account.remote_id, account.sent_state, account.last_payload = "", AccountState.DELETED, {}

    # -- bookkeeping -----------------------------------------------------------------------------
    def _event(self, event_type: str, account: ProvisionedAccount, message: str, **kwargs) -> None:
        resource = account_resource(account)
        event_record(event_type, integration=self.integration, resource=resource, message=message, **kwargs)

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
