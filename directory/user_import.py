"""CSV import of users: each row created, updated or refused on its own, with a reason."""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from insights.models import Service
from insights.services import record

from . import services
from .errors import error_sentence
from .models import Organization, User, UserGroup, UserState

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
GROUP_SEPARATOR = ";"
COLUMNS = tuple(c for c in services.USER_ATTRIBUTES if c != "is_staff") + ("state", "groups")


@dataclass(frozen=True)
class ImportRow:
    """What happened to one line of the file."""

    line: int
    email: str
    outcome: str  # created, updated, unchanged, refused
    message: str = ""


def _read(data: bytes) -> csv.DictReader:
    if len(data) > MAX_BYTES:
        raise ValidationError("The file is larger than 5 MB. Split it into smaller files and import each.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again.") from exc
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in headers:
        raise ValidationError(
            "The file has no “email” column. The first line must name the columns, e.g. email,first_name,last_name."
        )
    unknown = [h for h in headers if h not in COLUMNS]
    if unknown:
        raise ValidationError(f"Unknown column(s): {', '.join(unknown)}. Allowed columns are: {', '.join(COLUMNS)}.")
    reader.fieldnames = headers
    return reader


def _row_values(raw: dict) -> dict:
    if None in raw:  # more cells than headers
        raise ValidationError("The row has more cells than the header names. Check for stray commas.")
    return {key: (value or "").strip() for key, value in raw.items()}


def _groups_for(organization: Organization, cell: str) -> list[UserGroup]:
    names = [n.strip() for n in cell.split(GROUP_SEPARATOR) if n.strip()]
    if not names:
        return []
    found = {g.name.lower(): g for g in UserGroup.objects.filter(organization=organization, name__in=names)}
    missing = [n for n in names if n.lower() not in found]
    if missing:
        raise ValidationError(
            f"Group(s) {', '.join(missing)} do not exist in this organization. Create them first or fix the names."
        )
    return [found[n.lower()] for n in names]


def _import_row(organization: Organization, values: dict, actor) -> tuple[str, User]:
    email = values.get("email", "").lower()
    if not email:
        raise ValidationError("The email cell is empty. Every user needs an email address.")
    state = values.get("state", "")
    if state and state not in UserState.values:
        raise ValidationError(f"State “{state}” is not one of staged, active, suspended.")
    groups = _groups_for(organization, values.get("groups", ""))
    attributes = {k: v for k, v in values.items() if k in services.USER_ATTRIBUTES and k != "email" and v}
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and existing.organization_id != organization.pk:
        raise ValidationError("This email address is already in use. Use another address.")
    if existing is None:
        user = services.user_create(
            organization=organization, email=email, state=state or UserState.ACTIVE, actor=actor, **attributes
        )
        outcome = "created"
    else:
        before = {k: getattr(existing, k) for k in (*attributes, "state")}
        user = services.user_update(
            user=existing, actor=actor, data={**attributes, **({"state": state} if state else {})}
        )
        after = {k: getattr(user, k) for k in before}
        outcome = "updated" if before != after else "unchanged"
    for group in groups:
        if services.group_members_add(group=group, users=[user], actor=actor) and outcome == "unchanged":
            outcome = "updated"
    return outcome, user


def users_import_csv(*, organization: Organization, data: bytes, actor: User | None = None) -> list[ImportRow]:
    """Import users from CSV bytes; a bad row is refused with its reason and never stops the others."""
    reader = _read(data)
    report: list[ImportRow] = []
    for index, raw in enumerate(reader):
        line = index + 2  # the header is line 1
        if index >= MAX_ROWS:
            raise ValidationError(f"The file has more than {MAX_ROWS} rows. Split it and import each part.")
        email = (raw.get("email") or "").strip().lower()
        try:
            values = _row_values(raw)
            with transaction.atomic():  # the row is written whole or not at all
                outcome, _ = _import_row(organization, values, actor)
            report.append(ImportRow(line=line, email=email, outcome=outcome))
        except (ValidationError, IntegrityError) as exc:
            message = (
                error_sentence(exc) if isinstance(exc, ValidationError) else "This row conflicts with an existing user."
            )
            report.append(ImportRow(line=line, email=email, outcome="refused", message=message))
            record(
                event_type="user_import_row",
                service=Service.DIRECTORY,
                organization=organization,
                actor=actor,
                success=False,
                resource={"type": "user", "id": "", "name": email or f"line {line}"},
                message=f"Line {line} refused: {message}",
            )
    counts = {o: sum(1 for r in report if r.outcome == o) for o in ("created", "updated", "unchanged", "refused")}
    record(
        event_type="user_import",
        service=Service.DIRECTORY,
        organization=organization,
        actor=actor,
        success=counts["refused"] == 0,
        resource={"type": "organization", "id": organization.pk, "name": organization.name},
        message=", ".join(f"{n} {o}" for o, n in counts.items()),
    )
    return report
