"""The cache allauth's rate limits count in: Redis when REDIS_URL is configured, local memory only without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRINT_CACHE = (
    "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
)


def cache_backend_with(**env_overrides) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_overrides)
    result = subprocess.run([sys.executable, "-c", PRINT_CACHE], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_rate_limits_count_in_redis_when_redis_url_is_set():
    assert cache_backend_with(REDIS_URL="redis://127.0.0.1:6379/4") == "django.core.cache.backends.redis.RedisCache"


def test_local_memory_cache_only_without_redis_url():
    env_file = REPO_ROOT / ".env"
    if env_file.exists() and "REDIS_URL" in env_file.read_text():
        pytest.skip("this machine's .env configures REDIS_URL")
    assert cache_backend_with() == "django.core.cache.backends.locmem.LocMemCache"
