"""Writes to SSO applications."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from core.url_policy import url_check
from directory.models import Organization, User, UserGroup
from insights.models import Service
from insights.services import record

from . import keys, signals
from .catalog import catalog_entry
from .models import Application, KeyState, NameIdFormat, SignatureAlgorithm, SigningKey, slug_available
from .saml.errors import SamlRefusal
from .saml.metadata import sp_metadata_parse


def _record(event_type: str, *, application: Application, actor=None, **fields) -> None:
    """Record an SSO event about this application (the one place these events get their service and tenant)."""
    record(
        event_type=event_type,
        service=Service.SSO,
        organization=application.organization,
        resource=application,
        actor=actor,
        **fields,
    )


@transaction.atomic
def application_groups_bind(
    *, application: Application, groups: Iterable[UserGroup], actor: User | None = None
) -> list[UserGroup]:
    """Authorize user groups for an application; returns the newly bound ones."""
    groups = list(groups)
    foreign = [g.name for g in groups if g.organization_id != application.organization_id]
    if foreign:
        raise ValidationError(
            f"{', '.join(foreign)} belong(s) to another organization and cannot be authorized for “{application}”."
        )
    current = set(application.authorized_groups.values_list("pk", flat=True))
    added = [g for g in groups if g.pk not in current]
    if not added:
        return []
    application.authorized_groups.add(*added)
    _authorization_changed(application=application, groups=added, bound=True, actor=actor)
    return added


@transaction.atomic
def application_groups_unbind(
    *, application: Application, groups: Iterable[UserGroup], actor: User | None = None
) -> list[UserGroup]:
    """Withdraw user groups' authorization for an application; returns the ones that were bound."""
    groups = list(groups)
    current = set(application.authorized_groups.values_list("pk", flat=True))
    removed = [g for g in groups if g.pk in current]
    if not removed:
        return []
    application.authorized_groups.remove(*removed)
    _authorization_changed(application=application, groups=removed, bound=False, actor=actor)
    return removed


def _authorization_changed(*, application: Application, groups: list[UserGroup], bound: bool, actor) -> None:
    """One event per group bound or unbound, then the signal provisioning listens to."""
    for group in groups:
        _record(
            "application_group_bind" if bound else "application_group_unbind",
            application=application,
            actor=actor,
            message=f"{group.name} {'authorized' if bound else 'no longer authorized'} for {application.label}",
            changes=[
                {
                    "field": "authorized_groups",
                    "from": None if bound else group.name,
                    "to": group.name if bound else None,
                }
            ],
        )
    signals.group_authorization_changed.send(sender=Application, application=application, groups=groups, bound=bound)


# --- applications and their keys --------------------------------------------------------------


def _catalog_saml_defaults(entry) -> dict:
    saml = entry.saml or {}
    defaults = {
        "sp_entity_id": saml.get("sp_entity_id", ""),
        "acs_urls": list(saml.get("acs_urls", [])),
        "nameid_source": saml.get("nameid_source", "email"),
        "nameid_format": saml.get("nameid_format", NameIdFormat.EMAIL),
        "sign_response": saml.get("sign_response", True),
        "sign_assertion": saml.get("sign_assertion", True),
        "signature_algorithm": saml.get("signature_algorithm", SignatureAlgorithm.RSA_SHA256),
        "default_relay_state": saml.get("default_relay_state", ""),
        "sp_login_url": saml.get("sp_login_url", ""),
        "attribute_statements": [dict(a) for a in saml.get("attributes", [])],
        "group_attribute_name": saml.get("group_attribute", ""),
    }
    return defaults


def application_defaults_from_catalog(*, catalog_key: str) -> dict:
    """The field values a new application of this catalog entry starts with (may still contain YOUR_ID)."""
    entry = catalog_entry(catalog_key)
    return {
        "catalog_key": entry.key,
        "label": entry.name,
        "description": entry.description,
        **_catalog_saml_defaults(entry),
    }


@transaction.atomic
def application_create(
    *, organization: Organization, catalog_key: str, actor: User | None = None, **fields
) -> Application:
    """Create an application from a catalog entry (fields override its defaults) with a fresh signing key."""
    values = {**application_defaults_from_catalog(catalog_key=catalog_key), **fields}
    application = Application(organization=organization, **values)
    return application_add(application=application, actor=actor)


@transaction.atomic
def application_add(*, application: Application, actor: User | None = None) -> Application:
    """Save a new application (validated here) and give a SAML app its first signing key."""
    if not application.idp_slug:
        application.idp_slug = slug_available(application.label)
    application.full_clean()
    application.save()
    if not application.is_bookmark:
        signing_key_create(application=application, state=KeyState.ACTIVE, actor=actor)
    _record(
        "application_create",
        application=application,
        actor=actor,
        message=f"{application.label} added from the catalog entry {application.catalog_entry.name}",
    )
    return application


@transaction.atomic
def application_update(
    *, application: Application, changes: list[dict], actor: User | None = None, message: str = ""
) -> Application:
    """Save an edited application (validated here) and record what changed."""
    application.full_clean()
    application.save()
    if changes:
        _record(
            "application_update",
            application=application,
            actor=actor,
            message=message or f"{application.label} updated",
            changes=changes,
        )
    return application


@transaction.atomic
def application_delete(*, application: Application, actor: User | None = None) -> None:
    """Delete an application with its keys and group authorizations (groups are unbound first, so others hear it)."""
    groups = list(application.authorized_groups.all())
    if groups:
        application_groups_unbind(application=application, groups=groups, actor=actor)
    _record(
        "application_delete",
        application=application,
        actor=actor,
        message=f"{application.label} deleted",
    )
    application.delete()


@transaction.atomic
def application_deactivate(*, application: Application, actor: User | None = None) -> Application:
    """Turn SSO (or the bookmark tile) off: launches are refused until it is switched on again."""
    if not application.sso_active:
        return application
    application.sso_active = False
    application.save(update_fields=["sso_active"])
    _record(
        "application_deactivate",
        application=application,
        actor=actor,
        message=f"SSO deactivated for {application.label}",
        changes=[{"field": "sso_active", "from": True, "to": False}],
    )
    return application


@transaction.atomic
def signing_key_create(
    *,
    application: Application,
    state: str = KeyState.STAGED,
    private_key: str = "",
    certificate: str = "",
    actor: User | None = None,
) -> SigningKey:
    """Add a signing key: generated when no pair is given, else the uploaded pair (validated)."""
    if private_key or certificate:
        try:
            pair = keys.keypair_check(private_key=private_key, certificate=certificate)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    else:
        pair = keys.keypair_generate(common_name=f"Lanyard IdP {application.idp_slug}")
    if state == KeyState.ACTIVE:
        application.signing_keys.filter(state=KeyState.ACTIVE).update(state=KeyState.RETIRED)
    key = SigningKey.objects.create(
        application=application,
        state=state,
        private_key=pair.private_key,
        certificate=pair.certificate,
        fingerprint=pair.fingerprint,
        not_after=pair.not_after,
    )
    _record(
        "signing_key_create",
        application=application,
        actor=actor,
        message=f"{'Uploaded' if private_key else 'Generated'} {key.get_state_display().lower()} signing key "
        f"{pair.fingerprint} for {application.label}",
    )
    return key


@transaction.atomic
def signing_key_promote(*, key: SigningKey, actor: User | None = None) -> SigningKey:
    """Make a staged key the one that signs; the previously active key is retired."""
    if key.state == KeyState.ACTIVE:
        return key
    if key.state != KeyState.STAGED:
        raise ValidationError("Only a staged key can be promoted. Stage a new key first.")
    key.application.signing_keys.filter(state=KeyState.ACTIVE).update(state=KeyState.RETIRED)
    key.state = KeyState.ACTIVE
    key.save(update_fields=["state"])
    _record(
        "signing_key_promote",
        application=key.application,
        actor=actor,
        message=f"Signing key {key.fingerprint} now signs for {key.application.label}",
        changes=[{"field": "signing_key", "from": "staged", "to": "active"}],
    )
    return key


def application_sp_metadata_apply(*, application: Application, document: bytes, actor: User | None = None) -> list:
    """Fill SP entity ID, ACS URLs, SP certificate and NameID format from the SP's metadata; returns the changes."""
    try:
        metadata = sp_metadata_parse(document)
    except SamlRefusal as exc:
        raise ValidationError(exc.message) from exc
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    for url in metadata.acs_urls:
        try:
            url_check(url, field="ACS URL")
        except ValidationError as exc:
            message = (
                f"This SP metadata cannot be used: {exc.messages[0]} "
                "Ask the app for metadata whose ACS URLs are https:// addresses."
            )
            _record(
                "application_update",
                application=application,
                actor=actor,
                success=False,
                message=message,
            )
            raise ValidationError(message) from exc
    changes = []
    updates = {
        "sp_entity_id": metadata.entity_id,
        "acs_urls": metadata.acs_urls,
        "sp_certificate": metadata.certificate,
    }
    if metadata.nameid_format in NameIdFormat.values:
        updates["nameid_format"] = metadata.nameid_format
    for name, value in updates.items():
        if value and getattr(application, name) != value:
            changes.append({"field": name, "from": getattr(application, name), "to": value})
            setattr(application, name, value)
    if not changes:
        return []
    application_update(
        application=application,
        changes=changes,
        actor=actor,
        message=f"{application.label} configured from SP metadata",
    )
    return changes
