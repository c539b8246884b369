"""Access-token refresh: single-flight per portal across processes (row lock), rotation persisted first."""

import logging
import threading
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import PortalNeedsReauth
from .oauth import oauth_token_refresh

log = logging.getLogger(__name__)

TOKEN_FIELDS = ["access_token", "refresh_token", "access_expires_at", "client_endpoint", "scope", "status",
                "status_reason", "updated_at"]


def portal_token_refresh(portal, failed_access_token: str) -> str:
    """Return a working access token after ``failed_access_token`` was refused as expired/invalid.

    Under a row lock on the Portal: if another process already rotated the pair, its token is used;
    otherwise the OAuth server is asked once and the new pair is committed before anyone retries. The
    transaction is always our own: inside a caller's atomic block it runs on a separate connection, so a
    rollback of the caller can never lose a rotated (and therefore only valid) refresh token.
    """
    if connection.in_atomic_block:
        locked, reauth_error = _in_own_connection(lambda: _refresh_under_lock(portal.pk, failed_access_token))
    else:
        locked, reauth_error = _refresh_under_lock(portal.pk, failed_access_token)
    _copy_tokens(locked, portal)
    if reauth_error is not None:
        raise reauth_error
    return portal.access_token


def _refresh_under_lock(portal_pk, failed_access_token):
    from bx24app.models import Portal

    reauth_error = None
    with transaction.atomic():
        locked = Portal.objects.select_for_update().get(pk=portal_pk)
        if locked.status != Portal.Status.ACTIVE:
            reauth_error = PortalNeedsReauth("PORTAL_NOT_ACTIVE", locked.status_reason or locked.status)
        elif locked.access_token != failed_access_token:
            log.info("portal %s: token already rotated by another worker", locked.member_id)
        else:
            try:
                _rotate(locked)
            except PortalNeedsReauth as exc:
                portal_mark_needs_reauth(locked, exc)
                reauth_error = exc
    return locked, reauth_error


def _in_own_connection(work):
    """Run ``work`` in a helper thread: Django gives it its own database connection (autocommit)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="bx24-token-refresh")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _rotate(locked) -> None:
    answer = oauth_token_refresh(locked.server_endpoint, locked.refresh_token)
    locked.access_token = answer["access_token"]
    locked.refresh_token = answer["refresh_token"]
    locked.access_expires_at = timezone.now() + timedelta(seconds=int(answer.get("expires_in") or 3600))
    locked.client_endpoint = answer.get("client_endpoint") or locked.client_endpoint
    locked.scope = answer.get("scope") or locked.scope
    locked.save(update_fields=["access_token", "refresh_token", "access_expires_at", "client_endpoint",
                               "scope", "updated_at"])
    log.info("portal %s: access token refreshed", locked.member_id)


def portal_mark_needs_reauth(portal, error) -> None:
    """The stored pair is dead: everything stops for this portal until an administrator reopens the app."""
    from bx24app.models import Portal

    portal.status = Portal.Status.NEEDS_REAUTH
    portal.status_reason = _(
        "Битрикс24 не принял сохраненный ключ доступа ({code}). Администратор портала должен открыть "
        "приложение в Битрикс24 — ключ обновится автоматически."
    ).format(code=error.code or "invalid_grant")
    portal.save(update_fields=["status", "status_reason", "updated_at"])
    log.warning("portal %s needs re-authorisation: %s", portal.member_id, error)


def _copy_tokens(source, target) -> None:
    for field in TOKEN_FIELDS:
        setattr(target, field, getattr(source, field))
