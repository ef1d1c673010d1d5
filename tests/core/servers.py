"""Stand-ins on 127.0.0.1 for the outbound guard's tests: an HTTP server that records, a non-HTTP one, a closed port."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingServer:
    """An HTTP server on 127.0.0.1 that records every request (method, path, headers) and gives one fixed answer."""

    def __init__(self, *, status: int = 200, body=None, headers: dict | None = None):
        self.requests: list[tuple[str, str, dict]] = []
        self.status, self.body, self.headers = status, body, dict(headers or {})
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real app

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path, dict(self.headers)))
                body = server.body(self.path) if callable(server.body) else server.body
                body = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(server.status)
                for name, value in {"Content-Type": "application/scim+json", **server.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RawServer:
    """A TCP service on 127.0.0.1 that is not HTTP: it answers every connection with a line of its own."""

    def __init__(self, greeting: bytes = b"SSH-2.0-OpenSSH_9.2 internal-build-host\r\n"):
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.greeting = greeting
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(self.greeting)

    def stop(self) -> None:
        self.sock.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
