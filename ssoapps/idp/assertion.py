"""What an assertion says about a user to one application: NameID, attributes, audience; the protocol code writes it."""

from directory.models import User

from ..models import Application
from ..saml.response import ResponseSpec


def user_attribute_value(user: User, source: str) -> str:
    """The value of one user field an application asks for (NameID source or attribute source)."""
    if source == "full_name":
        return user.get_full_name()
    if source == "id":
        return str(user.pk)
    return str(getattr(user, source, "") or "")


class AssertionBuilder:
    """Maps one user to the Response one application gets: its NameID choice, attribute statements and signing."""

    def __init__(self, *, application: Application, user: User):
        self.application = application
        self.user = user

    def name_id(self) -> str:
        """The NameID value, from the field the application chose."""
        return user_attribute_value(self.user, self.application.nameid_source)

    def attributes(self) -> list[tuple[str, list[str]]]:
        """(name, values) of every attribute statement, then the user's group names in this organization if asked."""
        application, user = self.application, self.user
        attributes = []
        for statement in application.attribute_statements:
            if "source" in statement and statement["source"]:
                value = user_attribute_value(user, statement["source"])
            else:
                value = str(statement.get("value", ""))
            attributes.append((statement["name"], [value]))
        if application.group_attribute_name:
            names = list(
                user.user_groups.filter(organization_id=application.organization_id).values_list("name", flat=True)
            )
            attributes.append((application.group_attribute_name, names))
        return attributes

    def spec(self, *, acs_url: str, in_response_to: str | None) -> ResponseSpec:
        """The plain values ssoapps.saml.response builds and signs the Response from."""
        application = self.application
        return ResponseSpec(
            issuer=application.issuer,
            destination=acs_url,
            audience=application.sp_entity_id,
            name_id=self.name_id(),
            name_id_format=application.nameid_format,
            in_response_to=in_response_to,
            attributes=self.attributes(),
            sign_response=application.sign_response,
            sign_assertion=application.sign_assertion,
            algorithm=application.signature_algorithm,
        )
