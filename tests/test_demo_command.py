"""`make demo`'s launcher brings up all five processes, provisions the demo group, and stops cleanly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.portal.browser import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def wait_until(check, *, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the demo did not come up in time")


def scim_users_page(base: str, *, containing: str) -> str | None:
    text = httpx.get(f"{base}/").text
    return text if containing in text else None


def test_demo_brings_everything_up_and_provisions_the_demo_group(tmp_path, redis_url):
    ports = {"LANYARD_PORT": free_port(), "DEMO_SP_PORT": free_port(), "DEMO_SCIM_PORT": free_port()}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEMO_", "LANYARD_")) and k not in ("DATABASE_URL", "SSO_BASE_URL")
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        REDIS_URL=redis_url,
        DEMO_SP_DB=str(tmp_path / "sp.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    web, sp, scim = (f"http://127.0.0.1:{ports[name]}" for name in ("LANYARD_PORT", "DEMO_SP_PORT", "DEMO_SCIM_PORT"))
    try:
        wait_until(lambda: httpx.get(f"{web}/readyz").json()["status"] == "ok")
        assert httpx.get(f"{web}/saml2/demo-sp/metadata").status_code == 200
        assert httpx.get(f"{sp}/").status_code == 200
        # Engineering (Alice and Bob) is bound to the Demo SP: the worker creates both in its SCIM server.
        page = wait_until(lambda: scim_users_page(scim, containing="bob@acme.example"))
        assert "alice@acme.example" in page and "carol@acme.example" not in page
    finally:
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=60)
    for url in (web, sp, scim):
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/healthz", timeout=2)
    assert "Demo organization “Acme Corp” is ready." in output
