"""A separate worker process for the concurrency tests: calls one portal N times and prints a JSON report.

Usage: ``worker.py <member_id> <start_at_unix> <calls>`` with DATABASE_URL, REDIS_URL, BITRIX24_OAUTH_SERVERS and
BITRIX24_ALLOW_HTTP in the environment (set by tests/bx24app/conftest.py:run_worker_processes).
"""

import json
import os
import sys
import time


def main() -> None:
    member_id, start_at, calls = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bx24app.settings")
    import django

    django.setup()
    from bx24app.bitrix.client import BitrixClient
    from bx24app.bitrix.stats import RequestStats
    from bx24app.models import Portal

    portal = Portal.objects.get(member_id=member_id)
    stats = RequestStats()
    client = BitrixClient(portal, stats=stats)
    time.sleep(max(0.0, start_at - time.time()))
    errors = []
    for _ in range(calls):
        try:
            client.call("user.current")
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(repr(exc))
    print(json.dumps({"finished": time.time(), "errors": errors, "stats": stats.snapshot(),
                      "access_token": portal.access_token}))


if __name__ == "__main__":
    main()
