"""GET /healthz: 200 when the database and Redis answer, 503 otherwise.

Without REDIS_URL (the one-process demo) Redis is not used: ``"redis": "not used"`` and only the database counts.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_ok() -> bool:
    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except Exception:
        return False


@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "redis": _redis_ok() if settings.REDIS_URL else "not used"}
    ok = checks["database"] is True and checks["redis"] is not False
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)
