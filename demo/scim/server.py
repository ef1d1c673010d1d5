"""The demo SCIM server: scim2-server's in-memory app under /scim/v2, a users page at /, and SP quirks.

Quirks mimic what real apps do to a SCIM client, so the tests can run the provisioning engine
against them: no PATCH, no filtering, 429 with Retry-After or X-RateLimit-Reset, intermittent
500s and slow responses. They can be changed while the server runs (`server.quirks.x = ...`).
"""

import html
import json
import threading
import time
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from scim2_models import ScimProvider
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

SCIM_PREFIX = "/scim"


@dataclass
class Quirks:
    """The misbehaviours the server is asked to show; all off by default."""

    no_patch: bool = False  # announces patch unsupported and answers PATCH with 501
    no_filter: bool = False  # announces filter unsupported and refuses ?filter= with 400
    throttle_every: int = 0  # every Nth SCIM request answers 429 ...
    throttle_header: str = "Retry-After"  # ... with Retry-After (seconds) or X-RateLimit-Reset (epoch)
    throttle_seconds: int = 1
    fail_every: int = 0  # every Nth SCIM request answers 500
    delay: float = 0.0  # seconds added to every SCIM request


@dataclass
class RequestLog:
    """Every SCIM request the server received: (method, path, query, status)."""

    entries: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: tuple) -> int:
        with self.lock:
            self.entries.append(entry)
            return len(self.entries)

    def calls(self, method: str | None = None) -> list[tuple]:
        """Entries, optionally only those of one HTTP method."""
        with self.lock:
            return [e for e in self.entries if method is None or e[0] == method]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


class DemoScimApp:
    """WSGI app: SCIM under /scim/v2 (bearer token), an HTML list of users at /."""

    def __init__(self, *, token: str, quirks: Quirks | None = None):
        self.token = token
        self.quirks = quirks or Quirks()
        self.log = RequestLog()
        self._counter = 0
        self._counter_lock = threading.Lock()
        self.storage = InMemoryStorage()
        # one scim2-server app per (patch, filter) announcement, all over the same storage
        self._apps: dict[tuple[bool, bool], BearerTokenApplication] = {}

    def _build(self, *, patch: bool, filtering: bool) -> BearerTokenApplication:
        config = load_default_service_provider_config()
        config.patch.supported = patch
        config.filter.supported = filtering
        config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
        provider = ScimProvider.from_discovery(
            load_default_schemas().values(), load_default_resource_types().values(), config=config
        )
        service = ScimService(provider, secret="demo-scim-cursor-secret")
        return BearerTokenApplication(self.storage, provider, service=service, bearer_tokens=[self.token])

    def _scim_app(self) -> BearerTokenApplication:
        patch, filtering = not self.quirks.no_patch, not self.quirks.no_filter
        key = (patch, filtering)
        if key not in self._apps:
            self._apps[key] = self._build(patch=patch, filtering=filtering)
        return self._apps[key]

    def set_token(self, token: str) -> None:
        """Accept only this bearer token from now on (a revoked or rotated token)."""
        self.token = token
        for app in self._apps.values():
            app.bearer_tokens = {token}

    def users(self) -> list[dict]:
        """Every user the server holds, as SCIM JSON."""
        return [
            r.model_dump()
            for r in list(self.storage.resources)
            if "urn:ietf:params:scim:schemas:core:2.0:User" in (r.schemas or [])
        ]

    def groups(self) -> list[dict]:
        """Every group the server holds, as SCIM JSON."""
        return [
            r.model_dump()
            for r in list(self.storage.resources)
            if "urn:ietf:params:scim:schemas:core:2.0:Group" in (r.schemas or [])
        ]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(SCIM_PREFIX + "/"):
            return self._users_page(start_response)
        return self._scim(environ, start_response, path)

    def _error(self, environ, start_response, status: str, detail: str, headers=()):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:  # the connection is kept alive: the unread body must not become the next request
            environ["wsgi.input"].read(length)
        body = json.dumps(
            {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status[:3], "detail": detail}
        ).encode()
        start_response(status, [("Content-Type", "application/scim+json"), *headers])
        return [body]

    def _scim(self, environ, start_response, path):
        quirks = self.quirks
        method = environ["REQUEST_METHOD"]
        query = environ.get("QUERY_STRING", "")
        with self._counter_lock:
            self._counter += 1
            n = self._counter
        if quirks.delay:
            time.sleep(quirks.delay)
        status = None
        try:
            if quirks.throttle_every and n % quirks.throttle_every == 0:
                status = "429"
                if quirks.throttle_header == "Retry-After":
                    header = ("Retry-After", str(quirks.throttle_seconds))
                else:
                    header = ("X-RateLimit-Reset", str(int(time.time()) + quirks.throttle_seconds))
                return self._error(environ, start_response, "429 Too Many Requests", "Slow down.", [header])
            if quirks.fail_every and n % quirks.fail_every == 0:
                status = "500"
                return self._error(environ, start_response, "500 Internal Server Error", "Something broke on our side.")
            if quirks.no_patch and method == "PATCH" and self._authorized(environ):
                status = "501"
                return self._error(environ, start_response, "501 Not Implemented", "PATCH is not supported.")
            if quirks.no_filter and "filter=" in query and self._authorized(environ):
                status = "400"
                return self._error(environ, start_response, "400 Bad Request", "Filtering is not supported.")
            environ = {**environ, "SCRIPT_NAME": SCIM_PREFIX, "PATH_INFO": path[len(SCIM_PREFIX) :]}

            def recording_start_response(status_line, headers, exc_info=None):
                nonlocal status
                status = status_line[:3]
                return start_response(status_line, headers, exc_info)

            return self._scim_app()(environ, recording_start_response)
        finally:
            self.log.add((method, path[len(SCIM_PREFIX) :], query, status))

    def _authorized(self, environ) -> bool:
        return environ.get("HTTP_AUTHORIZATION", "") == f"Bearer {self.token}"

    def _users_page(self, start_response):
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(str(u.get("userName", ""))),
                html.escape(", ".join(e.get("value", "") for e in u.get("emails") or [])),
                html.escape(_display_name(u)),
                "active" if u.get("active", True) else "inactive",
            )
            for u in sorted(self.users(), key=lambda u: str(u.get("userName", "")).lower())
        )
        body = (
            "<!doctype html><title>Demo app users</title><h1>Users held by the demo app</h1>"
            f"<p>{len(self.users())} user(s). SCIM base URL: <code>{SCIM_PREFIX}/v2</code></p>"
            "<table border=1 cellpadding=4><tr><th>userName</th><th>Email</th><th>Name</th><th>Active</th></tr>"
            f"{rows}</table>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]


def _display_name(user: dict) -> str:
    name = user.get("name") or {}
    parts = " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
    return str(name.get("formatted") or user.get("displayName") or parts)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive (wsgiref answers one request per connection), and no access log."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def handle(self):
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        handler = ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.http_version = "1.1"
        handler.request_handler = self
        handler.run(self.server.get_app())
        self.wfile.flush()

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class RunningServer:
    """A demo SCIM server running in a background thread (for tests and benchmarks)."""

    def __init__(self, *, token: str, quirks: Quirks | None = None, host: str = "127.0.0.1", port: int = 0):
        self.app = DemoScimApp(token=token, quirks=quirks)
        self.httpd = make_server(host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}{SCIM_PREFIX}/v2"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def quirks(self) -> Quirks:
        return self.app.quirks

    @property
    def log(self) -> RequestLog:
        return self.app.log

    def users(self) -> list[dict]:
        """Every user held by the server."""
        return self.app.users()

    def groups(self) -> list[dict]:
        """Every group held by the server."""
        return self.app.groups()

    def start(self) -> "RunningServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_forever(*, host: str, port: int, token: str, quirks: Quirks | None = None) -> None:
    """Run the demo server in the foreground until interrupted."""
    app = DemoScimApp(token=token, quirks=quirks)
    with make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler) as httpd:
        print(f"Demo SCIM server: users page http://{host}:{port}/  SCIM base URL http://{host}:{port}{SCIM_PREFIX}/v2")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
