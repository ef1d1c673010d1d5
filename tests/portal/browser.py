"""Browser-test machinery: headless Chromium through Playwright, and the demo SP as a separate process."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def csp_violation(console_text: str) -> bool:
    """Whether a console message is Chromium reporting a Content-Security-Policy violation."""
    # Chromium words them "Refused to …" or "Executing inline script violates …"; every one names the policy.
    return "Content Security Policy" in console_text or "Content-Security-Policy" in console_text


def free_port() -> int:
    """A TCP port nobody listens on right now, on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, *, timeout: float = 60.0) -> None:
    """Block until something accepts connections on the port; fail with the process's output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"The demo SP exited early (code {process.returncode}):\n{output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"The demo SP did not start listening on port {port} within {timeout:.0f} s.")


def demo_sp_start(*, port: int, metadata_url: str, database: Path) -> subprocess.Popen:
    """Start demo/sp as its own process (its own settings, no Lanyard code), listening on 127.0.0.1:port."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update(
        DEMO_SP_URL=f"http://127.0.0.1:{port}",
        LANYARD_METADATA_URL=metadata_url,
        DEMO_SP_DB=str(database),
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "demo/sp/manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=str(REPO_ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_port(port, process)
    return process


def demo_sp_stop(process: subprocess.Popen) -> str:
    """Stop the demo SP and return what it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""
