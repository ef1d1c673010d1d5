"""Admin forms for applications: ACS URLs one per line, portal image upload kept as data, SP metadata and key upload."""

import base64

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from .catalog import PLACEHOLDER
from .models import MAX_PORTAL_IMAGE_BYTES, Application

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}


class UrlLinesField(forms.CharField):
    """A list of URLs edited as one per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        validate = forms.URLField(assume_scheme="https").clean
        for line in lines:
            if PLACEHOLDER in line:
                continue  # reported as a YOUR_ID error by the model, with what to do
            try:
                validate(line)
            except ValidationError as exc:
                raise ValidationError(f"“{line}” is not a web address. Give one full URL per line.") from exc
        return lines


def _formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


# The SAML settings of an application, in the order the admin shows them.
SSO_FIELDS = (
    "idp_entity_id",
    "sp_entity_id",
    "acs_urls",
    "sp_certificate",
    "nameid_source",
    "nameid_format",
    "sign_response",
    "sign_assertion",
    "signature_algorithm",
    "default_relay_state",
    "sp_login_url",
    "attribute_statements",
    "group_attribute_name",
)


class ApplicationForm(forms.ModelForm):
    """Every field of an application; the portal image is uploaded and stored in the database."""

    acs_urls = UrlLinesField(
        label="ACS URLs",
        required=False,
        help_text="One per line. The first is the default, used for launches from Lanyard.",
    )
    portal_image_upload = forms.FileField(
        label="Portal image",
        required=False,
        help_text="PNG, JPEG, GIF, WebP or SVG, up to 256 KB. Shown on the user's portal tile.",
    )
    portal_image_remove = forms.BooleanField(label="Remove the portal image", required=False)

    class Meta:
        model = Application
        formfield_callback = _formfield
        fields = [
            "catalog_key",
            "organization",
            "label",
            "description",
            "show_in_portal",
            "sso_active",
            "bookmark_url",
            *SSO_FIELDS,
            "authorized_groups",
            "idp_slug",
        ]
        widgets = {
            "catalog_key": forms.HiddenInput,
            "sp_certificate": forms.Textarea(attrs={"rows": 4, "cols": 80}),
            "attribute_statements": forms.Textarea(attrs={"rows": 4, "cols": 80}),
            "description": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }

    def clean_portal_image_upload(self):
        upload = self.cleaned_data.get("portal_image_upload")
        if not upload:
            return None
        if upload.size > MAX_PORTAL_IMAGE_BYTES:
            raise ValidationError("The image is larger than 256 KB. Upload a smaller one.")
        if upload.content_type not in IMAGE_TYPES:
            raise ValidationError("Upload a PNG, JPEG, GIF, WebP or SVG image.")
        return f"data:{upload.content_type};base64,{base64.b64encode(upload.read()).decode()}"

    def _post_clean(self):
        image = self.cleaned_data.get("portal_image_upload")
        if image:
            self.instance.portal_image = image
        elif self.cleaned_data.get("portal_image_remove"):
            self.instance.portal_image = ""
        super()._post_clean()


class CatalogSearchForm(forms.Form):
    """Search the application catalog by name."""

    q = forms.CharField(label="Search the catalog", required=False)


class SpMetadataUploadForm(forms.Form):
    """The app's SAML SP metadata file."""

    metadata = forms.FileField(label="SP metadata XML", help_text="The metadata file the app offers for download.")

    def clean_metadata(self):
        upload = self.cleaned_data["metadata"]
        if upload.size > 256 * 1024:
            raise ValidationError("This file is too large for SP metadata. Upload the app's metadata XML.")
        return upload.read()


class KeyPairUploadForm(forms.Form):
    """An RSA key pair of your own, staged as the next signing key."""

    private_key = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 70}), help_text="PEM, unencrypted.")
    certificate = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 70}), help_text="PEM.")


class DeleteCountForm(forms.Form):
    """Deleting applications is confirmed by typing how many are being deleted."""

    count = forms.IntegerField(label="Type the number of applications being deleted", min_value=0)

    def __init__(self, *args, expected: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_count(self):
        count = self.cleaned_data["count"]
        if count != self.expected:
            raise ValidationError(f"Type {self.expected}, the number of applications you are deleting, to confirm.")
        return count
