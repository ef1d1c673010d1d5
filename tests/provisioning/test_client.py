"""The SCIM client's error typing: each kind of answer becomes the error type the reconciler decides on."""

import pytest

from provisioning.retry import RetryPolicy
from provisioning.scim_client import ScimClient
from provisioning.scim_errors import (
    ConflictError,
    NotFoundError,
    PermanentError,
    RefusedError,
    TransientError,
    UnauthorizedError,
    UnsupportedError,
    error_for,
)
from tests.core.servers import RecordingServer, closed_port

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.mark.parametrize(
    ("status", "body", "feature", "error_type"),
    [
        (401, None, "", UnauthorizedError),
        (403, None, "", UnauthorizedError),
        (404, None, "", NotFoundError),
        (409, None, "", ConflictError),
        (501, None, "", UnsupportedError),
        (400, {"detail": "PATCH is not supported"}, "patch", UnsupportedError),
        (405, {"detail": "Patch operations are disabled"}, "patch", UnsupportedError),
        (400, {"detail": "PATCH is not supported"}, "", RefusedError),
        (400, {"detail": "Invalid value"}, "patch", RefusedError),
        (422, None, "", RefusedError),
    ],
)
def test_each_status_is_typed(status, body, feature, error_type):
    error = error_for(status, body, what="update the user", host="app.example", feature=feature)

    assert type(error) is error_type
    assert error.status == status
    assert error.permanent


def test_only_transient_errors_are_worth_trying_again():
    assert not TransientError("down").permanent
    assert PermanentError("not SCIM").permanent
    assert issubclass(RefusedError, PermanentError)


@pytest.fixture
def answering():
    """A loopback app that answers every request with the given status and SCIM Error body."""
    servers = []

    def start(status: int, detail: str = "", **kwargs) -> ScimClient:
        body = {"schemas": [ERROR], "status": str(status), "detail": detail} if detail else b""
        server = RecordingServer(status=status, body=body, headers=kwargs.get("headers"))
        servers.append(server)
        policy = RetryPolicy(attempts=2, base=0.01, cap=0.05)
        return ScimClient(base_url=f"{server.url}/scim/v2", token="t", policy=policy)

    yield start
    for server in servers:
        server.stop()


def test_a_create_the_app_already_holds_raises_a_conflict_with_the_apps_words(answering):
    client = answering(409, "userName ada@example.test is taken")

    with pytest.raises(ConflictError) as caught:
        client.user_create(payload={"userName": "ada@example.test"})

    assert caught.value.message == "The app refused to create the user (HTTP 409: userName ada@example.test is taken)."
    assert caught.value.detail == "POST /Users answered HTTP 409."


def test_a_refused_token_raises_unauthorized_with_what_to_do(answering):
    with pytest.raises(UnauthorizedError, match="Re-authenticate with a valid token"):
        answering(401, "bad token").users_all()


def test_patch_not_implemented_raises_unsupported(answering):
    with pytest.raises(UnsupportedError):
        answering(501, "PATCH is not supported.").user_patch(remote_id="1", changes={"active": False})


def test_a_filter_the_app_refuses_raises_unsupported(answering):
    with pytest.raises(UnsupportedError):
        answering(400, "Filtering is not supported.").user_find(attribute="userName", value="ada")


@pytest.mark.parametrize("call", ["user_delete", "user_replace", "group_replace", "group_delete"])
def test_a_resource_the_app_lost_raises_not_found(answering, call):
    client = answering(404, "Resource 1 not found")
    kwargs = {"remote_id": "1"}
    kwargs |= {"payload": {}} if call == "user_replace" else {}
    kwargs |= {"display_name": "G", "member_ids": []} if call == "group_replace" else {}

    with pytest.raises(NotFoundError):
        getattr(client, call)(**kwargs)


def test_an_app_that_keeps_failing_raises_transient(answering):
    client = answering(503, "Try later")

    with pytest.raises(TransientError, match="kept failing"):
        client.user_delete(remote_id="1")


def test_an_unreachable_app_raises_transient():
    client = ScimClient(
        base_url=f"http://127.0.0.1:{closed_port()}/scim/v2", token="t", policy=RetryPolicy(attempts=2, base=0.01)
    )

    with pytest.raises(TransientError, match="could not reach"):
        client.users_all()


def test_an_answer_that_is_not_scim_is_permanent_and_says_only_could_not_reach(answering):
    server = RecordingServer(status=200, body={"hello": "world"})
    try:
        client = ScimClient(base_url=f"{server.url}/scim/v2", token="t")
        with pytest.raises(PermanentError, match="could not reach") as caught:
            client.users_all()
        assert "world" not in caught.value.message
    finally:
        server.stop()
