"""Crash safety: a worker process killed (SIGKILL) in the middle of a batch, another started, the sweep run —
the SP ends exactly in line with the directory."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from directory import services as directory
from directory.models import UserState
from provisioning import services, sweep
from provisioning.models import ProvisionedAccount
from ssoapps import services as ssoapps
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "") + "@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse (RQ runs each job in a forked child in its own process group)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    os.kill(pid, signal.SIGKILL)
    for child in children:
        _kill_tree(int(child))


def _worker(redis_url: str, *extra: str, bulk: bool = True) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "PROVISIONING_LEASE_SECONDS": "3",
        "PROVISIONING_SWEEP_GRACE_SECONDS": "0",
        "PROVISIONING_CONCURRENCY": "4",
        "LOG_LEVEL": "WARNING",
        "PROVISIONING_USE_BULK": "1" if bulk else "0",
        # the demo SCIM server listens on http://127.0.0.1 (tests/conftest.py allows it in this process only)
        "ALLOW_INSECURE_URLS": "true",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "provisioning", *extra],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker subprocess needs a database it can open (PostgreSQL)"
)
def test_killed_worker_mid_batch_then_sweep_leaves_the_sp_in_line(
    settings, org, application, group, integration, scim_server, redis_queues, redis_url
):
    settings.PROVISIONING_LEASE_SECONDS = 3
    services.integration_activate(integration=integration)
    users = [UserFactory(organization=org, email=f"c{i:02}@org-a.test") for i in range(60)]
    directory.group_members_add(group=group, users=users)
    scim_server.quirks.delay = 0.15  # slow enough to kill the worker with the batch half done

    ssoapps.application_groups_bind(application=application, groups=[group])
    first = _worker(redis_url, bulk=False)  # one user at a time, so the kill lands mid-batch
    try:
        deadline = time.monotonic() + 60
        while len(scim_server.users()) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        _kill_tree(first.pid)
        first.wait()
    time.sleep(0.5)  # requests already in flight may still land
    created_at_kill = len(scim_server.users())
    time.sleep(0.5)
    assert len(scim_server.users()) == created_at_kill, "nothing works on after the kill"
    assert 0 < created_at_kill < 60, "the worker should die with the batch half done"
    assert ProvisionedAccount.objects.filter(dirty=True).exists()

    # the directory moves on while no worker runs
    removed, suspended, deleted = users[:5], users[5:8], users[8:10]
    directory.group_members_remove(group=group, users=removed)
    for user in suspended:
        directory.user_suspend(user=user)
    deleted_emails = {u.email for u in deleted}
    for user in deleted:
        directory.user_delete(user=user)

    scim_server.quirks.delay = 0
    time.sleep(3.5)  # the dead worker's leases expire
    assert sweep.accounts_sweep() > 0
    second = _worker(redis_url, "--burst")
    try:
        _, stderr = second.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        _kill_tree(second.pid)
        raise
    assert second.returncode == 0, stderr.decode()[-2000:]

    remote = scim_server.users()
    usernames = [u["userName"] for u in remote]
    assert len(usernames) == len(set(usernames)), "no user duplicated"
    by_name = {u["userName"]: u for u in remote}
    for user in users:
        if user.email in deleted_emails:
            assert user.email not in by_name, f"{user.email} was deleted in the directory"
            continue
        user.refresh_from_db()
        should_be_active = user not in removed and user.state == UserState.ACTIVE
        if should_be_active:
            assert by_name[user.email]["active"] is True, f"{user.email} missing or inactive"
        elif user.email in by_name:
            assert by_name[user.email]["active"] is False, f"{user.email} still active in the app"
    assert set(by_name) <= {u.email for u in users}
    assert not ProvisionedAccount.objects.filter(dirty=True).exists()
