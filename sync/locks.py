"""One sync per portal at a time, across every worker: a PostgreSQL session advisory lock.

The lock dies with the database session, so a worker killed mid-sync (SIGKILL) never leaves a portal locked.
On other databases (the SQLite demo runs everything in one process) a process-local lock does the same job.
"""

import hashlib
import threading
from contextlib import contextmanager

from django.db import connection

_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock_key(member_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"bx24-sync:{member_id}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def portal_sync_lock(portal):
    """Yields True when this process holds the portal's sync lock, False when another sync is running."""
    if connection.vendor == "postgresql":
        key = _lock_key(portal.member_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    with _guard:
        lock = _local_locks.setdefault(portal.member_id, threading.Lock())
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


def portal_sync_busy(portal) -> bool:
    """True while some process runs this portal's sync (its lock is held); a killed worker's lock is gone."""
    with portal_sync_lock(portal) as acquired:
        return not acquired
