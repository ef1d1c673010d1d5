"""The shipped catalog: ClickUp as JumpCloud describes it, and a dozen more apps with SAML defaults and a logo."""

from pathlib import Path

import pytest

import ssoapps
from ssoapps.catalog import PLACEHOLDER, catalog, catalog_entry, catalog_search
from ssoapps.models import USER_ATTRIBUTE_NAMES, NameIdFormat

LOGOS = Path(ssoapps.__file__).parent / "static" / "ssoapps" / "logos"


def test_clickup_entry():
    clickup = catalog_entry("clickup")
    assert PLACEHOLDER in clickup.saml["sp_entity_id"] and PLACEHOLDER in clickup.saml["acs_urls"][0]
    assert set(clickup.scim["users"]) == {"create", "update", "deactivate", "reactivate"}
    assert clickup.scim["groups"] is False
    assert set(clickup.scim["attributes"]) == {"userName", "active", "emails"}


def test_at_least_ten_well_known_saml_apps_besides_clickup():
    others = [e for e in catalog().values() if e.kind == "saml" and e.key not in ("clickup", "custom-saml")]
    assert len(others) >= 10
    assert {"slack", "zoom", "github-enterprise", "salesforce", "google-workspace"} <= {e.key for e in others}


@pytest.mark.parametrize("entry", list(catalog().values()), ids=list(catalog()))
def test_entry_is_usable(entry):
    assert (LOGOS / entry.logo).read_text().startswith("<svg")
    if entry.kind == "bookmark":
        return
    saml = entry.saml
    assert saml["nameid_format"] in NameIdFormat.values
    assert saml["nameid_source"] in USER_ATTRIBUTE_NAMES
    for statement in saml["attributes"]:
        assert statement["name"] and (statement.get("source") in USER_ATTRIBUTE_NAMES or "value" in statement)
    if entry.key != "custom-saml":
        assert saml["sp_entity_id"] and saml["acs_urls"]


def test_search_is_by_name_and_case_insensitive():
    assert [e.key for e in catalog_search("ZOOM")] == ["zoom"]
    assert len(catalog_search("")) == len(catalog())
