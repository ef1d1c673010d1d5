"""A tenant's configured applications, their signing keys, and the SAML IdP's short-lived request state."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from core.encryption import EncryptedTextField
from core.url_policy import url_check
from directory.models import TenantOwned, UserGroup

from .catalog import PLACEHOLDER, CatalogEntry, catalog, catalog_entry


class NameIdFormat(models.TextChoices):
    """SAML NameID formats an application can ask for."""

    EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", "Email address"
    UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", "Unspecified"
    PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "Persistent"
    TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", "Transient"


class SignatureAlgorithm(models.TextChoices):
    """Signature algorithms the IdP signs with."""

    RSA_SHA256 = "rsa-sha256", "RSA-SHA256"
    RSA_SHA384 = "rsa-sha384", "RSA-SHA384"
    RSA_SHA512 = "rsa-sha512", "RSA-SHA512"
    RSA_SHA1 = "rsa-sha1", "RSA-SHA1 (legacy apps only)"


# Directory attributes an app can receive as its NameID or as an attribute value.
USER_ATTRIBUTES = [
    ("email", "Email"),
    ("username", "Username"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("display_name", "Display name"),
    ("full_name", "Full name"),
    ("department", "Department"),
    ("job_title", "Job title"),
    ("employee_id", "Employee ID"),
    ("phone", "Phone"),
    ("id", "Lanyard user ID"),
]
USER_ATTRIBUTE_NAMES = {name for name, _ in USER_ATTRIBUTES}

MAX_PORTAL_IMAGE_BYTES = 256 * 1024


def slug_available(base: str, *, exclude_pk: int | None = None) -> str:
    """A globally unique IdP slug built from `base` (a name), adding -2, -3… when taken."""
    root = slugify(base)[:90] or "app"
    candidate, n = root, 1
    taken = Application.objects.exclude(pk=exclude_pk)
    while taken.filter(idp_slug=candidate).exists():
        n += 1
        candidate = f"{root}-{n}"
    return candidate


class Application(TenantOwned):
    """An app from the catalog as one organization configured it."""

    catalog_key = models.CharField(max_length=64, help_text="The catalog entry this app was created from.")
    label = models.CharField("display label", max_length=200)
    description = models.TextField(blank=True)
    portal_image = models.TextField(
        blank=True,
        help_text="The portal tile image, kept in the database as a data: URL (PNG, JPEG, GIF or SVG, up to 256 KB).",
    )
    show_in_portal = models.BooleanField(default=True)
    idp_slug = models.SlugField(
        "IdP URL slug",
        max_length=100,
        unique=True,
        help_text="The last part of this app's IdP URL. It cannot be changed after the app is created.",
    )
    sso_active = models.BooleanField("SSO active", default=True)
    bookmark_url = models.URLField(blank=True, help_text="For Bookmark apps: the address the tile opens.")
    authorized_groups = models.ManyToManyField(
        UserGroup,
        blank=True,
        related_name="applications",
        help_text="Members of these groups may use the app. Nobody else may (default deny).",
    )

    # SAML: who we are to the app, and who the app is
    idp_entity_id = models.CharField(
        "IdP entity ID",
        max_length=255,
        blank=True,
        help_text="The issuer Lanyard puts in responses and metadata. Empty: this app's IdP URL.",
    )
    sp_entity_id = models.CharField(
        "SP entity ID", max_length=255, blank=True, help_text="The app's entity ID (the Audience of assertions)."
    )
    acs_urls = models.JSONField(
        "ACS URLs",
        default=list,
        blank=True,
        help_text="Assertion Consumer Service URLs the app may ask responses to be sent to. The first is the default.",
    )
    sp_certificate = models.TextField(
        "SP certificate",
        blank=True,
        help_text="PEM certificate the app signs its AuthnRequests with. When set, unsigned requests are refused.",
    )
    nameid_source = models.CharField(
        "NameID source", max_length=32, choices=USER_ATTRIBUTES, default="email", help_text="What identifies the user."
    )
    nameid_format = models.CharField(
        "NameID format", max_length=128, choices=NameIdFormat.choices, default=NameIdFormat.EMAIL
    )
    sign_response = models.BooleanField("sign Response", default=True)
    sign_assertion = models.BooleanField("sign Assertion", default=True)
    signature_algorithm = models.CharField(
        max_length=16, choices=SignatureAlgorithm.choices, default=SignatureAlgorithm.RSA_SHA256
    )
    default_relay_state = models.CharField(
        "default RelayState",
        max_length=80,
        blank=True,
        help_text="Sent with IdP-initiated launches; many apps use it as the page to open after sign-in.",
    )
    sp_login_url = models.URLField("SP login URL", blank=True, help_text="The app's own sign-in page, if it has one.")
    attribute_statements = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of {"name": SP attribute, "source": directory attribute} or {"name": …, "value": constant}.',
    )
    group_attribute_name = models.CharField(
        max_length=128,
        blank=True,
        help_text="When set, the names of the user's groups are sent in an attribute with this name.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    @property
    def catalog_entry(self) -> CatalogEntry:
        """The catalog template of this app."""
        return catalog_entry(self.catalog_key)

    @property
    def is_bookmark(self) -> bool:
        """A bookmark is a tile that opens a URL; it has no SSO."""
        return self.catalog_entry.kind == "bookmark"

    @property
    def sso_url(self) -> str:
        """The IdP URL of this app: SP-initiated requests arrive here, IdP-initiated launches start here."""
        return f"{settings.SSO_BASE_URL}/saml2/{self.idp_slug}"

    @property
    def metadata_url(self) -> str:
        """The public IdP metadata of this app."""
        return f"{self.sso_url}/metadata"

    @property
    def issuer(self) -> str:
        """The IdP entity ID this app sees."""
        return self.idp_entity_id or self.sso_url

    @property
    def default_acs_url(self) -> str:
        """Where IdP-initiated responses go."""
        return self.acs_urls[0] if self.acs_urls else ""

    def placeholder_fields(self) -> list[str]:
        """Names of the fields that still contain the catalog's YOUR_ID placeholder."""
        names = []
        for f in self._meta.concrete_fields:
            value = getattr(self, f.attname)
            if value is not None and PLACEHOLDER in str(value):
                names.append(f.name)
        return names

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.catalog_key not in catalog():
            errors["catalog_key"] = f"“{self.catalog_key}” is not in the application catalog."
        elif self.is_bookmark and not self.bookmark_url:
            errors["bookmark_url"] = "Enter the address the bookmark tile opens."
        for name in self.placeholder_fields():
            errors[name] = f"Replace {PLACEHOLDER} with your own ID from the app's SSO settings before saving."
        if not isinstance(self.acs_urls, list) or not all(isinstance(u, str) and u for u in self.acs_urls):
            errors["acs_urls"] = "Give the ACS URLs as a list of addresses."
        for name, label, urls in self._stored_urls():
            for url in urls:
                if name in errors:
                    break
                try:
                    url_check(url, field=label)
                except ValidationError as exc:
                    errors[name] = exc.messages[0]
        if not isinstance(self.attribute_statements, list) or not all(
            isinstance(s, dict) and s.get("name") and (s.get("source") in USER_ATTRIBUTE_NAMES or "value" in s)
            for s in self.attribute_statements
        ):
            errors["attribute_statements"] = (
                "Each attribute needs a name and either a directory attribute "
                f"({', '.join(sorted(USER_ATTRIBUTE_NAMES))}) or a constant value."
            )
        if self.portal_image and len(self.portal_image) > MAX_PORTAL_IMAGE_BYTES * 4 // 3 + 100:
            errors["portal_image"] = "The portal image is too large. Use an image of 256 KB or less."
        if errors:
            raise ValidationError(errors)

    def _stored_urls(self) -> list[tuple[str, str, list[str]]]:
        """(field, label, URLs) of every URL this app sends browsers to, for the URL policy."""
        acs_urls = [u for u in self.acs_urls if isinstance(u, str)] if isinstance(self.acs_urls, list) else []
        return [
            ("acs_urls", "ACS URL", acs_urls),
            ("sp_login_url", "SP login URL", [self.sp_login_url] if self.sp_login_url else []),
            ("bookmark_url", "bookmark URL", [self.bookmark_url] if self.bookmark_url else []),
        ]

    def save(self, *args, **kwargs):
        placeholders = self.placeholder_fields()
        if placeholders:
            # the last guard: services and admin validate first, this keeps YOUR_ID out of the database
            raise ValidationError(
                {name: f"Replace {PLACEHOLDER} with your own ID before saving." for name in placeholders}
            )
        if not self.idp_slug:
            self.idp_slug = slug_available(self.label, exclude_pk=self.pk)
        super().save(*args, **kwargs)


class KeyState(models.TextChoices):
    """Lifecycle of a signing key: staged (published, not signing), active (signing), retired."""

    STAGED = "staged", "Staged"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class SigningKey(models.Model):
    """An RSA key pair and certificate the IdP signs one application's responses with."""

    tenant_path = "application__organization"
    event_resource_type = "signing_key"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="signing_keys")
    state = models.CharField(max_length=16, choices=KeyState.choices, default=KeyState.STAGED)
    private_key = EncryptedTextField(help_text="PEM private key, encrypted at rest. It is never shown again.")
    certificate = models.TextField(help_text="PEM certificate published in the IdP metadata.")
    fingerprint = models.CharField("SHA-256 fingerprint", max_length=95, editable=False)
    not_after = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["application", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=models.Q(state="active"), name="one_active_key_per_application"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} — {self.get_state_display()} key {self.fingerprint[:23]}"

    @property
    def cache_version(self) -> str:
        """What identifies this key's content for the loaded-key cache."""
        return f"{self.pk}:{self.fingerprint}"


class ParkedRequest(models.Model):
    """An SSO request that arrived before the user signed in, kept until login resumes it."""

    token = models.CharField(max_length=64, primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="parked_requests")
    method = models.CharField(max_length=8)
    query_string = models.TextField(blank=True, help_text="The raw query string (the signed part of Redirect binding).")
    form = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"parked request for {self.application}"


class AnsweredRequest(models.Model):
    """An AuthnRequest ID the IdP has answered; a second request with the same ID is a replay."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="answered_requests")
    request_id = models.CharField(max_length=256)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "request_id"], name="answered_request_once"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="answered_request_expiry")]

    def __str__(self) -> str:
        return self.request_id
