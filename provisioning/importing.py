"""Manual import: the app's users beside the directory, and creating directory users for the chosen ones."""

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction

from core.url_policy import url_check
from directory import services as directory_services
from directory.errors import error_sentence
from directory.models import User

from . import queueing
from .audit import event_record, outbound_failed
from .client import integration_client
from .mapping import remote_email, text
from .models import Integration
from .scim_errors import ScimError, UnauthorizedError

IMPORT_JOB_THRESHOLD = 100  # more users than this selected for import: run it as a job and email the admin


def import_candidates(*, integration: Integration, only_new: bool = False) -> list[dict]:
    """The app's active users beside the directory: each {id, userName, email, name, status New|Imported}."""
    url_check(integration.base_url, field="SCIM base URL")  # a URL stored before the policy is refused here
    with integration_client(integration=integration) as client:
        try:
            remote_users = client.users_all()
        except ScimError as exc:  # only a token refusal is told apart; anything else reads "could not reach"
            outbound_failed(integration, exc.detail or exc.message)
            raise ValidationError(exc.message if isinstance(exc, UnauthorizedError) else client.unreachable) from exc
    organization = integration.application.organization
    known = {e.lower() for e in User.objects.filter(organization=organization).values_list("email", flat=True)}
    rows = []
    for remote in remote_users:
        if remote.get("active") is False:
            continue  # suspended in the app: not offered
        email = remote_email(remote)
        name = remote.get("name") if isinstance(remote.get("name"), dict) else {}
        row = {
            "id": str(remote.get("id")),
            "userName": text(remote.get("userName")),
            "email": email,
            "first_name": text(name.get("givenName"))[:150],
            "last_name": text(name.get("familyName"))[:150],
            "status": "Imported" if email.lower() in known else "New",
        }
        if only_new and row["status"] != "New":
            continue
        rows.append(row)
    return sorted(rows, key=lambda r: r["email"])


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
            event_record(
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
            event_record(
                "user_import",
                integration=integration,
                actor=actor,
                resource=resource,
                success=False,
                message=f"Could not import {row['email']}: {error_sentence(exc)}",
            )
            continue
        counts["imported"] += 1
        event_record(
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
