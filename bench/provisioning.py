"""Benchmark: 5,000 users bound to one app, provisioned by two RQ worker processes into a loopback scim2-server.

Timed from binding the group to the last account in sync; in the same run, the same server's
throughput for 5,000 direct POSTs from one client (the limit). Last line:
`users=5000 seconds=… users_per_s=… sp_direct_per_s=… ratio=…` (target ratio ≥ 0.5, zero duplicates).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lanyard_prov_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/provisioning.py [--users 5000] [--workers 2]

The database named in DATABASE_URL is dropped and created again; Redis database 7 is flushed.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/lanyard_prov_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
TOKEN = "bench-scim-token"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("lanyard_prov"):
        sys.exit(f"Refusing to drop {name!r}: the benchmark only drops databases named lanyard_prov*.")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_for_port(port: int) -> None:
    """Block until something listens on the port."""
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit("The SCIM server did not start.")


def start_scim_server(port: int) -> subprocess.Popen:
    """The demo SCIM server (scim2-server, in memory) in its own process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "demo.scim", "--port", str(port), "--token", TOKEN],
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def direct_posts(base_url: str, count: int) -> float:
    """POST `count` users from one client straight to the server; returns users per second."""
    import httpx2

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
    with httpx2.Client(base_url=base_url, headers=headers, timeout=30) as client:
        start = time.perf_counter()
        for i in range(count):
            body = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": f"direct{i}@bench.test",
                "emails": [{"value": f"direct{i}@bench.test", "type": "work", "primary": True}],
                "name": {"givenName": "Direct", "familyName": f"User{i}"},
                "displayName": f"Direct User{i}",
                "active": True,
            }
            response = client.post("/Users", json=body)
            if response.status_code != 201:
                sys.exit(f"Direct POST failed: HTTP {response.status_code} {response.text[:200]}")
        return count / (time.perf_counter() - start)


def main() -> None:
    """Run the benchmark and print the result line last."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # the stand-in SCIM server listens on http://127.0.0.1 (the workers inherit these too)
    os.environ.setdefault("ALLOW_INSECURE_URLS", "true")
    os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8")
    sys.path.insert(0, str(BASE_DIR))
    recreate_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from redis import Redis

    call_command("migrate", verbosity=0)
    Redis.from_url(os.environ["REDIS_URL"]).flushdb()

    from directory.models import Organization, User, UserGroup
    from provisioning import services
    from provisioning.models import Integration, ProvisionedAccount
    from ssoapps import services as ssoapps
    from ssoapps.models import Application

    port = free_port()
    server = start_scim_server(port)
    base_url = f"http://127.0.0.1:{port}/scim/v2"
    workers: list[subprocess.Popen] = []
    try:
        organization = Organization.objects.create(name="Bench", slug="bench")
        application = Application.objects.create(
            organization=organization, catalog_key="custom-saml", label="Bench app", idp_slug="bench-app"
        )
        group = UserGroup.objects.create(organization=organization, name="Everyone")
        User.objects.bulk_create(
            [
                User(
                    organization=organization,
                    email=f"user{i}@bench.test",
                    username=f"user{i}",
                    first_name="Bench",
                    last_name=f"User{i}",
                    display_name=f"Bench User{i}",
                    password="!",
                )
                for i in range(args.users)
            ],
            batch_size=1000,
        )
        users = list(User.objects.filter(organization=organization))
        group.members.through.objects.bulk_create(
            [group.members.through(usergroup_id=group.pk, user_id=u.pk) for u in users], batch_size=1000
        )
        # the per-integration limiter stays on, set above what this server can take
        integration = Integration.objects.create(
            application=application, base_url=base_url, token=TOKEN, rate_limit=5000
        )
        services.integration_activate(integration=integration)

        env = {**os.environ, "PYTHONPATH": str(BASE_DIR)}
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "provisioning"],
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        time.sleep(2)  # workers up and listening

        start = time.perf_counter()
        ssoapps.application_groups_bind(application=application, groups=[group])
        bound = time.perf_counter() - start
        accounts = ProvisionedAccount.objects.filter(integration=integration)
        first_sent = None
        while True:
            if first_sent is None and accounts.exclude(remote_id="").exists():
                first_sent = time.perf_counter() - start
            pending = accounts.filter(dirty=True).count() + accounts.filter(remote_id="").count()
            if accounts.count() == args.users and pending == 0:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        users_per_s = args.users / seconds
        failed = accounts.exclude(last_error="").count()

        import httpx2

        listing = httpx2.get(
            f"{base_url}/Users",
            params={"count": 1, "filter": 'userName sw "user"'},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).json()
        remote_total = int(listing.get("totalResults", 0))
        remote_ids = set(accounts.values_list("remote_id", flat=True))
        duplicates = (remote_total - args.users) + (args.users - len(remote_ids))
        print(
            f"provisioned {args.users} users in {seconds:.1f}s (group bound after {bound:.1f}s, first user in the app "
            f"after {first_sent or 0:.1f}s); remote users={remote_total}; failed={failed}"
        )

        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait()
        workers = []

        sp_direct = direct_posts(base_url, args.users)
        print(f"duplicates={duplicates}")
        print(
            f"users={args.users} seconds={seconds:.1f} users_per_s={users_per_s:.1f} "
            f"sp_direct_per_s={sp_direct:.1f} ratio={users_per_s / sp_direct:.2f}"
        )
    finally:
        for worker in workers:
            worker.kill()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
