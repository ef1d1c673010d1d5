"""Liveness and readiness probes for a load balancer or orchestrator."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def _redis_ok() -> str | None:
    from redis import Redis

    try:
        Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"redis unreachable: {exc.__class__.__name__}"
    return None


@never_cache
@require_GET
def readyz(request):
    """The database and Redis answer: this process can do real work (503 otherwise)."""
    problems = {"database": _database_ok(), "redis": _redis_ok()}
    body = {name: problem or "ok" for name, problem in problems.items()}
    ready = not any(problems.values())
    body["status"] = "ok" if ready else "unavailable"
    return JsonResponse(body, status=200 if ready else 503)
