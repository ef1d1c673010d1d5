"""The application catalog: shipped data, one JSON file per entry under entries/.

An entry is not a tenant row: it is the template an Application is created from. Its keys:
key, name, kind ("saml" or "bookmark"), logo (file name under static/ssoapps/logos/),
description, saml (SP entity ID / ACS templates, may contain YOUR_ID; NameID source and format;
what to sign; attributes) and scim (supported operations, groups, attribute mapping).
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ENTRIES_DIR = Path(__file__).resolve().parent / "entries"
PLACEHOLDER = "YOUR_ID"


@dataclass(frozen=True)
class CatalogEntry:
    """One application template from the catalog."""

    key: str
    name: str
    kind: str = "saml"
    description: str = ""
    logo: str = ""
    saml: dict = field(default_factory=dict)
    scim: dict = field(default_factory=dict)

    @property
    def supports_scim(self) -> bool:
        """Whether users of this app can be provisioned over SCIM."""
        return bool(self.scim)


@cache
def catalog() -> dict[str, CatalogEntry]:
    """Every catalog entry by key, sorted by name."""
    entries = [CatalogEntry(**json.loads(path.read_text())) for path in sorted(ENTRIES_DIR.glob("*.json"))]
    return {entry.key: entry for entry in sorted(entries, key=lambda e: e.name.lower())}


def catalog_entry(key: str) -> CatalogEntry:
    """The entry with this key; KeyError when the catalog has none."""
    return catalog()[key]


def catalog_search(term: str) -> list[CatalogEntry]:
    """Entries whose name or description contains the term (case-insensitive)."""
    term = term.strip().lower()
    return [e for e in catalog().values() if not term or term in e.name.lower() or term in e.description.lower()]
