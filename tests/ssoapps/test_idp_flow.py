"""The IdP flow's decisions, called directly (no HTTP): login or park, issue, refuse; and the one access rule."""

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory import services as directory_services
from ssoapps.idp.flow import sso_flow
from ssoapps.idp.lookup import sso_application_get
from ssoapps.models import KeyState, ParkedRequest, SigningKey
from ssoapps.portal.selectors import application_visible_to, applications_in_portal
from ssoapps.saml import errors
from ssoapps.selectors import application_access_allowed, applications_for_user
from tests.factories import UserFactory, UserGroupFactory
from tests.ssoapps.saml_helpers import authn_request_xml, last_sso_event, post_form


def _flow(application, user, **fields):
    values = {"session_user_id": None, "method": "GET", "query_string": "", "form": {}}
    return sso_flow(slug=application.idp_slug, user=user, **{**values, **fields})


def test_anonymous_launch_is_sent_to_log_in_and_back_to_the_idp_url(application):
    outcome = _flow(application, AnonymousUser())
    assert outcome.login_next == f"/saml2/{application.idp_slug}" and outcome.issued is None
    assert not ParkedRequest.objects.exists()


def test_anonymous_sp_request_is_parked_and_resumed_after_login(application, member):
    form = post_form(authn_request_xml(application), relay_state="/after")
    outcome = _flow(application, AnonymousUser(), method="POST", form=form)
    parked = ParkedRequest.objects.get()
    assert outcome.login_next == f"/saml2/{application.idp_slug}/resume/{parked.token}"
    resumed = _flow(application, member, resume_token=parked.token)
    assert resumed.issued.relay_state == "/after" and resumed.refusal is None
    assert not ParkedRequest.objects.exists()


def test_a_second_answer_to_the_same_request_is_a_replay(application, member):
    form = post_form(authn_request_xml(application, request_id="_once"))
    assert _flow(application, member, method="POST", form=form).issued is not None
    again = _flow(application, member, method="POST", form=form)
    assert again.refusal.reason == errors.REPLAY and again.issued is None
    assert not last_sso_event().success


def test_a_suspended_users_session_is_refused_not_sent_to_log_in(application, member):
    directory_services.user_suspend(user=member)
    outcome = _flow(application, AnonymousUser(), session_user_id=member.pk)
    assert outcome.refusal.reason == errors.USER_SUSPENDED


def test_a_missing_signing_key_is_a_refusal_and_no_key_is_made_while_answering(application, member):
    SigningKey.objects.filter(application=application).update(state=KeyState.RETIRED)
    outcome = _flow(application, member)
    assert outcome.refusal.reason == errors.NO_SIGNING_KEY and outcome.refusal.status == 409
    assert "Ask your administrator" in outcome.refusal.message
    assert not SigningKey.objects.filter(application=application, state=KeyState.ACTIVE).exists()
    assert last_sso_event().success is False


def test_one_access_rule_for_portal_tiles_and_the_idp(org, other_org, application, member, engineering):
    outsider = UserFactory(organization=org, email="o@org-a.test", username="o")
    stranger = UserFactory(organization=other_org, email="s@org-b.test", username="s")
    UserGroupFactory(organization=other_org, name="Engineering", members=[stranger])
    suspended = UserFactory(organization=org, email="z@org-a.test", username="z")
    engineering.members.add(suspended)
    directory_services.user_suspend(user=suspended)
    suspended.refresh_from_db()
    expected = {member: True, outsider: False, stranger: False, suspended: False}
    for user, allowed in expected.items():
        assert application_access_allowed(user=user, application=application) is allowed, user.email
        assert applications_for_user(user=user).filter(pk=application.pk).exists() is allowed, user.email
        assert applications_in_portal(user=user).filter(pk=application.pk).exists() is allowed, user.email
        assert bool(application_visible_to(user=user, application=application)) is allowed, user.email  # launch


def test_the_lookups_authorization_is_trusted_only_for_the_user_it_was_made_for(application, member, org):
    outsider = UserFactory(organization=org, email="o@org-a.test", username="o")
    looked_up = sso_application_get(slug=application.idp_slug, user=member)
    assert looked_up.user_authorized is True
    assert application_access_allowed(user=member, application=looked_up) is True
    assert application_access_allowed(user=outsider, application=looked_up) is False


def test_a_launch_stays_at_four_queries(client, member, application):
    """User, application (with key version and authorization), group names, the event: nothing more."""
    client.force_login(member)
    client.get(f"/saml2/{application.idp_slug}")  # the first launch loads the key and compiles the lookup
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/saml2/{application.idp_slug}").status_code == 200
    assert len(queries) == 4, [q["sql"][:80] for q in queries.captured_queries]
