"""The SCIM client Lanyard uses: scim2-client (httpx2 engine) wrapped with the retry and rate-limit policy.

It knows nothing about RQ or Django models: it is given a base URL, a token, a rate limiter and a
callback for every attempt, and it answers with the resources asked for or raises a typed
`ScimError` (scim_errors.py), so its callers decide on what happened rather than on status codes.
Tokens go in the Authorization header only; they are never logged or put in an error message.

Every request goes through the outbound guard (core.outbound). Whatever keeps an answer from being
SCIM (a refused or unreachable address, a redirect, a closed port, something that is not SCIM)
reads the same to a person, "could not reach the app at <host>", so the messages cannot be used to
probe a network; what really happened is in `detail`, for the operators' event log. Bodies of
answers are never shown: only the words of a SCIM Error message are.
"""

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_client.errors import RequestNetworkException, SCIMClientException
from scim2_models import Group, ScimProvider, ServiceProviderConfig, User

from core.outbound import OutboundRefused, outbound_client, unreachable_sentence

from .retry import RETRYABLE, RateLimiter, RetryPolicy
from .scim_answers import Attempt, ScimResult, list_resources, total_results
from .scim_errors import PermanentError, TransientError, error_detail, error_for

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# The resources Lanyard sends: core User and Group (payloads go as dicts, unchecked, mapped by the catalog).
_PROVIDER = ScimProvider(models=[User, Group])
PAGE_SIZE = 500
MAX_LISTED_USERS = 200_000  # a listing that goes on longer is an app misbehaving, not a directory


class _CapturingClient(SyncSCIMClient):
    """scim2-client's sync client that remembers the raw response of its last request (one per thread)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_response: httpx2.Response | None = None

    def request(self, method: str, url: str, **kwargs):
        self.last_response = None
        response = super().request(method, url, **kwargs)
        self.last_response = response
        return response


class ScimClient:
    """A SCIM 2.0 client for one app, safe to share between threads over one keep-alive connection pool."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
        timeout: float = 15.0,
        max_connections: int = 16,
    ):
        self.limiter = limiter or RateLimiter()
        self.policy = policy or RetryPolicy()
        self.on_attempt = on_attempt
        self.host = urlsplit(base_url).hostname or base_url
        self.http = outbound_client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/scim+json"},
            timeout=timeout,
            max_connections=max_connections,
        )
        self._local = threading.local()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> "ScimClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _scim(self) -> _CapturingClient:
        scim = getattr(self._local, "scim", None)
        if scim is None:
            scim = _CapturingClient(
                self.http,
                provider=_PROVIDER,
                check_request_payload=False,
                check_response_payload=False,
                raise_scim_errors=False,
            )
            self._local.scim = scim
        return scim

    @property
    def unreachable(self) -> str:
        """The sentence for any answer that is not SCIM (see the module docstring)."""
        return unreachable_sentence(self.host)

    def _call(self, method: str, path: str, send: Callable[[_CapturingClient], Any]) -> ScimResult:
        """Send one request, retrying 429, 5xx and network errors; any other answer comes back as a result."""
        scim = self._scim()
        attempt = 0
        while True:
            self.limiter.wait()
            response = None
            detail = ""
            try:
                send(scim)
                response = scim.last_response
            except OutboundRefused as exc:  # the guard would not send it: retrying cannot help
                if self.on_attempt is not None:
                    self.on_attempt(Attempt(method, path, None, self.unreachable, final=True, detail=exc.detail))
                raise TransientError(self.unreachable, detail=exc.detail) from exc
            except RequestNetworkException as exc:  # network error or timeout
                status, message = None, self.unreachable
                detail = f"{method} {path}: {type(exc.__cause__ or exc).__name__}: {exc.__cause__ or exc}"
            except SCIMClientException as exc:
                response = scim.last_response
                code = response.status_code if response is not None else None
                kind = response.headers.get("content-type", "no content type") if response is not None else "nothing"
                detail = f"{method} {path} was answered with something that is not SCIM (HTTP {code or '?'}, {kind})."
                if self.on_attempt is not None:
                    self.on_attempt(Attempt(method, path, code, self.unreachable, final=True, detail=detail))
                raise PermanentError(self.unreachable, status=code, detail=detail) from exc
            else:
                status = response.status_code if response is not None else None
                body = _json(response)
                message = error_detail(body) if status and status >= 400 else ""
            retryable = status is None or status in RETRYABLE
            final = not retryable or attempt + 1 >= self.policy.attempts
            if self.on_attempt is not None:
                self.on_attempt(
                    Attempt(method=method, path=path, status=status, message=message, final=final, detail=detail)
                )
            if not retryable:
                return ScimResult(status=status, body=body)
            if final:
                if status is None:
                    raise TransientError(
                        f"{self.unreachable} Lanyard made {self.policy.attempts} attempts and will try again later.",
                        detail=detail,
                    )
                raise TransientError(
                    f"The app kept failing (HTTP {status}{': ' + message if message else ''}) after "
                    f"{self.policy.attempts} attempts; Lanyard will try again later.",
                    status=status,
                )
            delay = self.policy.delay(attempt, response)
            if status == 429:
                self.limiter.pause(delay)
            time.sleep(delay)
            attempt += 1

    def _expect(self, result: ScimResult, *, method: str, path: str, what: str, ok=(200,), **kinds) -> ScimResult:
        """The result when its status is one of `ok`; else the typed refusal (scim_errors.error_for)."""
        if result.status in ok:
            return result
        error = error_for(result.status, result.body, what=what, host=self.host, **kinds)
        error.detail = f"{method} {path} answered HTTP {result.status}."
        raise error

    # -- discovery -------------------------------------------------------------------------------
    def service_provider_config(self) -> dict:
        """GET /ServiceProviderConfig: what the app says it supports ({} when it answers no JSON object)."""
        result = self._call(
            "GET",
            "/ServiceProviderConfig",
            lambda s: s.query(ServiceProviderConfig, expected_status_codes=None),
        )
        self._expect(result, method="GET", path="/ServiceProviderConfig", what="describe itself")
        return result.body if isinstance(result.body, dict) else {}

    # -- users -----------------------------------------------------------------------------------
    def users_page(self, *, start_index: int = 1, count: int = PAGE_SIZE, filter: str | None = None) -> ScimResult:  # noqa: A002
        """GET /Users, one page (optionally filtered); any answer but 200 is raised as a refusal."""
        params: dict[str, Any] = {"startIndex": start_index, "count": count}
        if filter:
            params["filter"] = filter
        result = self._call(
            "GET", "/Users", lambda s: s.query(User, query_parameters=params, expected_status_codes=None)
        )
        if filter:  # an app that answers a filter with 400 cannot filter on that attribute
            return self._expect(result, method="GET", path="/Users", what="look the user up", unsupported=(400,))
        return self._expect(result, method="GET", path="/Users", what="list its users")

    def users_all(self) -> list[dict]:
        """Every user the app holds, read page by page (entries without an id are left out, repeats once)."""
        users: dict[str, dict] = {}
        start = 1
        while True:
            result = self.users_page(start_index=start)
            new = [r for r in self.resources(result, what="GET /Users") if str(r["id"]) not in users]
            users.update((str(r["id"]), r) for r in new)
            if len(users) > MAX_LISTED_USERS:
                raise PermanentError(
                    f"The app at {self.host} listed more than {MAX_LISTED_USERS:,} users, more than Lanyard reads; "
                    "check the SCIM base URL.",
                    detail=f"GET /Users kept returning pages (totalResults {result.body.get('totalResults')!r}).",
                )
            total = total_results(result.body)
            start += len(result.body.get("Resources") or [])
            # an empty page, or only users already read (an app that ignores startIndex), ends the listing too
            if not new or (total is not None and start > total):
                return list(users.values())

    def resources(self, result: ScimResult, *, what: str) -> list[dict]:
        """The resources of a 200 answer to a listing; an answer that is not a SCIM ListResponse is refused."""
        try:
            return list_resources(result.body)
        except ValueError as exc:
            detail = f"{what} answered {result.status} but {exc}."
            if self.on_attempt is not None:
                self.on_attempt(Attempt("GET", what, result.status, self.unreachable, final=True, detail=detail))
            raise PermanentError(self.unreachable, status=result.status, detail=detail) from exc

    def user_find(self, *, attribute: str, value: str) -> list[dict]:
        """GET /Users?filter=<attribute> eq "<value>": the matching users (UnsupportedError if it cannot filter)."""
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        result = self.users_page(count=2, filter=f'{attribute} eq "{escaped}"')
        return self.resources(result, what="GET /Users?filter")

    def user_create(self, *, payload: dict) -> dict:
        """POST /Users: the created user as the app holds it (ConflictError when it already has one)."""
        body = {"schemas": [USER_SCHEMA], **payload}
        result = self._call(
            "POST",
            "/Users",
            lambda s: s.create(User, resource=body, url="/Users", expected_status_codes=None),
        )
        self._expect(result, method="POST", path="/Users", what="create the user", ok=_created(result))
        return result.body

    def user_replace(self, *, remote_id: str, payload: dict) -> None:
        """PUT /Users/{id} with the whole user (NotFoundError when the app lost it)."""
        body = {"schemas": [USER_SCHEMA], "id": remote_id, **payload}
        url = f"/Users/{remote_id}"
        result = self._call("PUT", url, lambda s: s.replace(User, body, url=url, expected_status_codes=None))
        self._expect(result, method="PUT", path="/Users/{id}", what="update the user", ok=(200, 204))

    def user_patch(self, *, remote_id: str, changes: dict) -> None:
        """PATCH /Users/{id} replacing the given attributes (UnsupportedError when the app has no PATCH)."""
        operations = [{"op": "replace", "path": path, "value": value} for path, value in changes.items()]
        body = {"schemas": [PATCH_SCHEMA], "Operations": operations}
        url = f"/Users/{remote_id}"
        result = self._call(
            "PATCH", url, lambda s: s.modify(User, remote_id, body, url=url, expected_status_codes=None)
        )
        self._expect(result, method="PATCH", path="/Users/{id}", what="update the user", ok=(200, 204), feature="patch")

    def user_delete(self, *, remote_id: str) -> None:
        """DELETE /Users/{id} (NotFoundError when the app had no such user)."""
        url = f"/Users/{remote_id}"
        result = self._call("DELETE", url, lambda s: s.delete(User, remote_id, expected_status_codes=None))
        self._expect(result, method="DELETE", path="/Users/{id}", what="delete the user", ok=(200, 204))

    def users_bulk_create(self, *, payloads: list[tuple[str, dict]]) -> dict[str, dict]:
        """POST /Bulk with one user creation per (bulkId, payload): the app's answer to each operation, by bulkId."""
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": {"schemas": [USER_SCHEMA], **payload}}
                for bulk_id, payload in payloads
            ],
        }
        result = self._call("POST", "/Bulk", lambda s: s.bulk(body, url="/Bulk", expected_status_codes=None))
        self._expect(result, method="POST", path="/Bulk", what="create the users")
        operations = (result.body or {}).get("Operations") or [] if isinstance(result.body, dict) else []
        return {str(op.get("bulkId")): op for op in operations if isinstance(op, dict)}

    # -- groups ----------------------------------------------------------------------------------
    def group_create(self, *, display_name: str, member_ids: list[str]) -> str:
        """POST /Groups: the new group's id in the app."""
        body = {"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": [{"value": m} for m in member_ids]}
        result = self._call(
            "POST",
            "/Groups",
            lambda s: s.create(Group, resource=body, url="/Groups", expected_status_codes=None),
        )
        self._expect(result, method="POST", path="/Groups", what="create the group", ok=_created(result))
        return str(result.body["id"])

    def group_find(self, *, display_name: str) -> list[dict]:
        """GET /Groups?filter=displayName eq "<name>": the matching groups."""
        escaped = display_name.replace("\\", "\\\\").replace('"', '\\"')
        params = {"filter": f'displayName eq "{escaped}"', "count": 2}
        result = self._call(
            "GET", "/Groups", lambda s: s.query(Group, query_parameters=params, expected_status_codes=None)
        )
        self._expect(result, method="GET", path="/Groups", what="look the group up")
        return self.resources(result, what="GET /Groups?filter")

    def group_replace(self, *, remote_id: str, display_name: str, member_ids: list[str]) -> None:
        """PUT /Groups/{id} with the full member list (NotFoundError when the app lost it)."""
        body = {
            "schemas": [GROUP_SCHEMA],
            "id": remote_id,
            "displayName": display_name,
            "members": [{"value": m} for m in member_ids],
        }
        url = f"/Groups/{remote_id}"
        result = self._call("PUT", url, lambda s: s.replace(Group, body, url=url, expected_status_codes=None))
        self._expect(result, method="PUT", path="/Groups/{id}", what="update the group", ok=(200, 204))

    def group_delete(self, *, remote_id: str) -> None:
        """DELETE /Groups/{id} (NotFoundError when the app had no such group)."""
        url = f"/Groups/{remote_id}"
        result = self._call("DELETE", url, lambda s: s.delete(Group, remote_id, expected_status_codes=None))
        self._expect(result, method="DELETE", path="/Groups/{id}", what="delete the group", ok=(200, 204))


def _created(result: ScimResult) -> tuple[int, ...]:
    """201 counts as created only with the new resource's id in the body."""
    return (201,) if isinstance(result.body, dict) and result.body.get("id") else ()


def _json(response: httpx2.Response | None) -> Any:
    """The JSON body of an answer; anything else counts as no body (it is never shown to anyone)."""
    if response is None or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
