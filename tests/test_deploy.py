"""The production settings pass Django's deployment checklist, and refuse development secrets."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def clean_environment() -> dict:
    """This process's environment without what browser tests set for themselves."""
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args, **env):
    environment = {**clean_environment(), "SECURE_DEPLOYMENT": "true", "DEBUG": "false", **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=environment, capture_output=True, text=True, cwd=ROOT
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="x" * 20 + "production-secret-key-of-sufficient-length-0123456789",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_keys():
    env_without = {k: v for k, v in clean_environment().items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env={**env_without, "SECURE_DEPLOYMENT": "true"},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "still has its development value" in result.stderr
