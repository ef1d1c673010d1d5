"""CSV import of users: the file is checked whole before any write, then each row is imported or refused.

File-level problems (size, encoding, columns, a cell past the csv module's field limit, more rows
than the cap) refuse the whole file before anything is written. Each row is then created, updated or
refused on its own, in its own transaction, with a reason; every import ends in one summary event.
"""

import csv
import io
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from insights.models import Service
from insights.services import record
from insights.text import text_is_storable, text_storable

from . import services
from .errors import error_sentence
from .models import EMAIL_UNUSABLE, Organization, User, UserGroup, UserState

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
MAX_GROUPS_PER_ROW = 100
GROUP_SEPARATOR = ";"
COLUMNS = tuple(c for c in services.USER_ATTRIBUTES if c != "is_staff") + ("state", "groups")


@dataclass(frozen=True)
class ImportRow:
    """What happened to one line of the file."""

    line: int
    email: str
    outcome: str  # created, updated, unchanged, refused
    message: str = ""


class _AddressHeldElsewhere(ValidationError):
    """The row's address belongs to a user of another organization (told to operators only)."""

    def __init__(self, holder: User):
        super().__init__(EMAIL_UNUSABLE)
        self.holder = holder


def _names(names: list[str]) -> str:
    """Column names from the file for a sentence: cleaned, short, at most five."""
    shown = [text_storable(n)[:40] for n in names[:5]]
    return ", ".join(shown) + (", …" if len(names) > 5 else "")


def _headers(reader: csv.DictReader) -> list[str]:
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not all(text_is_storable(h) for h in headers):
        raise ValidationError("The first line contains a NUL or another character that cannot be used. Remove it.")
    if "email" not in headers:
        raise ValidationError(
            "The file has no “email” column. The first line must name the columns, e.g. email,first_name,last_name."
        )
    unknown = [h for h in headers if h not in COLUMNS]
    if unknown:
        raise ValidationError(f"Unknown column(s): {_names(unknown)}. Allowed columns are: {', '.join(COLUMNS)}.")
    repeated = [h for h in dict.fromkeys(headers) if headers.count(h) > 1]
    if repeated:
        raise ValidationError(f"Column(s) {_names(repeated)} appear more than once. Name each column once.")
    return headers


def _rows(data: bytes) -> list[tuple[int, dict]]:
    """Every row of the file with its line number; all of it is read and counted before anything is written."""
    if len(data) > MAX_BYTES:
        raise ValidationError("The file is larger than 5 MB. Split it into smaller files and import each.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again.") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict]] = []
    try:
        reader.fieldnames = _headers(reader)
        for raw in reader:
            if len(rows) == MAX_ROWS:
                raise ValidationError(
                    f"The file has more than {MAX_ROWS} rows. Nothing was imported: split it and import each part."
                )
            rows.append((reader.line_num, raw))
    except csv.Error as exc:
        line = reader.line_num + 1  # the reader counts a line once it has parsed it whole
        if "field limit" in str(exc):
            kilobytes = csv.field_size_limit() // 1024
            raise ValidationError(
                f"Line {line} has a cell longer than {kilobytes} KB, more than any user attribute holds. "
                "Nothing was imported: fix that line and import the file again."
            ) from exc
        raise ValidationError(
            f"Line {line} cannot be read as CSV. Nothing was imported: check its quotes and line breaks."
        ) from exc
    return rows


def _row_values(raw: dict) -> dict:
    if None in raw:  # more cells than headers
        raise ValidationError("The row has more cells than the header names. Check for stray commas.")
    values = {key: (value or "").strip() for key, value in raw.items()}
    unusable = [key for key, value in values.items() if not text_is_storable(value)]
    if unusable:
        raise ValidationError(
            f"The “{unusable[0]}” cell contains a NUL or another character that cannot be stored. "
            "Remove it and import the row again."
        )
    return values


def _groups_for(organization: Organization, cell: str) -> list[UserGroup]:
    names = list(dict.fromkeys(n.strip() for n in cell.split(GROUP_SEPARATOR) if n.strip()))
    if not names:
        return []
    if len(names) > MAX_GROUPS_PER_ROW:
        raise ValidationError(f"A row can name at most {MAX_GROUPS_PER_ROW} groups. Split the memberships over rows.")
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
        raise _AddressHeldElsewhere(existing)
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


def users_import_csv(
    *, organization: Organization, data: bytes | BinaryIO, actor: User | None = None
) -> list[ImportRow]:
    """Import users from CSV; ValidationError refuses the whole file, a bad row is refused alone in the report."""
    if not isinstance(data, bytes):
        data = data.read(MAX_BYTES + 1)  # never more than the cap into memory
    try:
        rows = _rows(data)
    except ValidationError as exc:
        _summary_record(organization, actor, success=False, message=f"File refused: {error_sentence(exc)}")
        raise
    report: list[ImportRow] = []
    for line, raw in rows:
        email = text_storable((raw.get("email") or "").strip().lower())[:254]
        try:
            values = _row_values(raw)
            with transaction.atomic():  # the row is written whole or not at all
                outcome, _ = _import_row(organization, values, actor)
            report.append(ImportRow(line=line, email=email, outcome=outcome))
        except (ValidationError, IntegrityError, DataError) as exc:
            if isinstance(exc, ValidationError):
                message = error_sentence(exc)
            elif isinstance(exc, IntegrityError):
                message = "This row conflicts with an existing user."
            else:
                message = "This row holds a value the directory cannot store. Check its cells and import it again."
            report.append(ImportRow(line=line, email=email, outcome="refused", message=message))
            _row_refusal_record(organization, actor, line=line, email=email, message=message)
            if isinstance(exc, _AddressHeldElsewhere):
                _foreign_address_record(organization, actor, email=email, holder=exc.holder)
    counts = {o: sum(1 for r in report if r.outcome == o) for o in ("created", "updated", "unchanged", "refused")}
    _summary_record(
        organization, actor, success=counts["refused"] == 0, message=", ".join(f"{n} {o}" for o, n in counts.items())
    )
    return report


def _row_refusal_record(organization: Organization, actor, *, line: int, email: str, message: str) -> None:
    record(
        event_type="user_import_row",
        service=Service.DIRECTORY,
        organization=organization,
        actor=actor,
        success=False,
        resource={"type": "user", "id": "", "name": email or f"line {line}"},
        message=f"Line {line} refused: {message}",
    )


def _foreign_address_record(organization: Organization, actor, *, email: str, holder: User) -> None:
    """The precise reason, for platform operators only (no organization): a tenant probing for addresses shows."""
    record(
        event_type="user_import_row",
        service=Service.DIRECTORY,
        organization=None,
        actor=actor,
        success=False,
        resource={"type": "user", "id": holder.pk, "name": email},
        message=(
            f"An import into {organization.slug} named {email}, which belongs to a user of "
            f"{holder.organization.slug}; the row was refused without saying so."
        ),
    )


def _summary_record(organization: Organization, actor, *, success: bool, message: str) -> None:
    record(
        event_type="user_import",
        service=Service.DIRECTORY,
        organization=organization,
        actor=actor,
        success=success,
        resource={"type": "organization", "id": organization.pk, "name": organization.name},
        message=message,
    )
