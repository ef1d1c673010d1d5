"""A tenant's configured applications."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from directory.models import TenantOwned, UserGroup

from .catalog import CatalogEntry, catalog, catalog_entry


class Application(TenantOwned):
    """An app from the catalog as one organization configured it."""

    catalog_key = models.CharField(max_length=64, help_text="The catalog entry this app was created from.")
    label = models.CharField("display label", max_length=200)
    description = models.TextField(blank=True)
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

    def clean(self) -> None:
        super().clean()
        if self.catalog_key not in catalog():
            raise ValidationError({"catalog_key": f"“{self.catalog_key}” is not in the application catalog."})
