"""BitrixClient: REST calls for one portal through the shared limiter, with refresh, retries and batch."""

import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from django.conf import settings

from .errors import (
    BitrixError,
    ExpiredToken,
    InvalidToken,
    OperationTimeLimit,
    OutcomeUnknown,
    PortalDeleted,
    PortalNeedsReauth,
    QueryLimitExceeded,
    TransportError,
    error_from_batch_entry,
    error_from_response,
)
from .limiter import PortalRateLimiter
from .phpquery import batch_command
from .stats import RequestStats
from .tokens import portal_token_refresh

log = logging.getLogger(__name__)

MAX_BATCH_COMMANDS = 50
PAGE_SIZE = 50
MAX_LIMIT_RETRIES = 6
MAX_SERVER_RETRIES = 3
MAX_PAUSE_RETRIES = 3
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
READ_SUFFIXES = (".get", ".list", ".fields")
READ_METHODS = {"app.info", "profile", "scope", "methods", "server.time"}
_local = threading.local()


def is_read_only(method: str) -> bool:
    """Reads may be retried after a 5xx or a lost connection; anything else is a write."""
    name = method.lower()
    return name.endswith(READ_SUFFIXES) or name in READ_METHODS or name.startswith("user.")


def _thread_session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _backoff(attempt: int) -> float:
    return min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.uniform(0.5, 1.5)


@dataclass
class BatchResult:
    """Per-command outcome of a ``batch``: a key is either in ``results`` or in ``errors``."""

    results: dict = field(default_factory=dict)
    errors: dict[str, BitrixError] = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    nexts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Attempts:
    limit: int = 0
    server: int = 0
    token: int = 0
    pause: int = 0


class BitrixClient:
    """Calls one portal's REST API as the installing administrator (the portal's stored tokens)."""

    def __init__(self, portal, *, stats: RequestStats | None = None, session: requests.Session | None = None,
                 limiter: PortalRateLimiter | None = None, sleep=time.sleep):
        self.portal = portal
        self.stats = stats if stats is not None else RequestStats()
        self.session = session or _thread_session()
        self.limiter = limiter or PortalRateLimiter(portal, sleep=sleep)
        self._sleep = sleep

    # ---- public API -------------------------------------------------------------------------------
    def call(self, method: str, params: dict | None = None):
        """The ``result`` of one method call."""
        return self.call_raw(method, params).get("result")

    def call_raw(self, method: str, params: dict | None = None) -> dict:
        """The whole JSON answer (``result``, ``total``, ``next``, ``time``)."""
        return self._request(method, dict(params or {}), read_only=is_read_only(method), methods=[method])

    def batch(self, commands: dict[str, tuple[str, dict | None]], halt: bool = False) -> BatchResult:
        """Up to 50 commands in one request; ``$result[key][ID]`` references may be used in params."""
        if len(commands) > MAX_BATCH_COMMANDS:
            raise ValueError(f"A batch takes at most {MAX_BATCH_COMMANDS} commands, got {len(commands)}.")
        if not commands:
            return BatchResult()
        methods = [method for method, _params in commands.values()]
        cmd = {key: batch_command(method, params) for key, (method, params) in commands.items()}
        body = self._request("batch", {"halt": 1 if halt else 0, "cmd": cmd},
                             read_only=all(is_read_only(m) for m in methods), methods=methods)
        return self._batch_result(body.get("result") or {}, commands)

    def list_all(self, method: str, *, params: dict | None = None, id_key: str = "ID",
                 items_key: str | None = None) -> Iterator[dict]:
        """Every record of a list method, by the fast walk: ``>ID`` filter, ``order ID ASC``, ``start=-1``."""
        params = dict(params or {})
        base_filter = dict(params.pop("filter", None) or {})
        last_id = 0
        while True:
            page_params = {**params, "filter": {**base_filter, f">{id_key}": last_id},
                           "order": {id_key: "ASC"}, "start": -1}
            result = self.call(method, page_params) or []
            items = (result.get(items_key) or []) if items_key else result
            yield from items
            if len(items) < PAGE_SIZE:
                return
            last_id = int(items[-1][id_key])

    # ---- one HTTP request with its retries -----------------------------------------------------
    def _url(self, method: str) -> str:
        endpoint = self.portal.client_endpoint
        if not endpoint.startswith("https://") and not settings.BITRIX24_ALLOW_HTTP:
            raise TransportError("HTTPS_REQUIRED", f"{endpoint} is not https and BITRIX24_ALLOW_HTTP is off")
        return endpoint.rstrip("/") + "/" + method

    def _require_active(self) -> None:
        if self.portal.status != "active":
            raise PortalNeedsReauth("PORTAL_NOT_ACTIVE", self.portal.status_reason or self.portal.status)

    def _request(self, method: str, params: dict, *, read_only: bool, methods: list[str]) -> dict:
        self._require_active()
        url = self._url(method)
        attempts = _Attempts()
        while True:
            self.limiter.wait_for_methods(methods)
            self.limiter.acquire()
            token = self.portal.access_token
            try:
                response = self._post(url, {**params, "auth": token})
            except requests.RequestException as exc:
                never_sent = self._never_sent(exc)
                if (never_sent or read_only) and attempts.server < MAX_SERVER_RETRIES:
                    attempts.server += 1
                    self._sleep(_backoff(attempts.server))
                    continue
                error_class = TransportError if (read_only or never_sent) else OutcomeUnknown
                raise error_class("CONNECTION", f"{method}: {exc}") from exc
            finally:
                self.stats.record(method, methods if method == "batch" else None)
            body = self._json(response, method)
            if body is not None and response.status_code < 400 and not body.get("error"):
                return body
            error = self._error(response, body, method, read_only)
            if self._should_retry(error, method, token, read_only, attempts):
                continue
            raise error

    def _post(self, url: str, payload: dict) -> requests.Response:
        timeout = settings.BITRIX24_HTTP_TIMEOUT
        return self.session.post(url, json=payload, timeout=(min(10.0, timeout), timeout), allow_redirects=False,
                                 headers={"User-Agent": settings.BITRIX24_USER_AGENT})

    @staticmethod
    def _never_sent(exc: requests.RequestException) -> bool:
        """Connection refused or connect timeout: the request never reached the portal."""
        if isinstance(exc, requests.ConnectTimeout):
            return True
        text = repr(exc)
        return isinstance(exc, requests.ConnectionError) and "NewConnectionError" in text

    @staticmethod
    def _json(response: requests.Response, method: str) -> dict | None:
        if 300 <= response.status_code < 400:
            raise TransportError("REDIRECT", f"{method}: the portal moved to {response.headers.get('Location')}",
                                 response.status_code)
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    @staticmethod
    def _error(response, body: dict | None, method: str, read_only: bool) -> BitrixError:
        if body is None:
            if response.status_code >= 500:
                return BitrixError("HTTP_ERROR", f"{method}: HTTP {response.status_code}", response.status_code)
            if response.status_code < 300 and not read_only:  # the write went through, but to what end?
                return OutcomeUnknown("BAD_ANSWER", f"{method}: HTTP {response.status_code}, not JSON",
                                      response.status_code)
            return TransportError("BAD_ANSWER", f"{method}: HTTP {response.status_code}, not JSON",
                                  response.status_code)
        return error_from_response(response.status_code, body)

    def _should_retry(self, error: BitrixError, method: str, token: str, read_only: bool,
                      attempts: _Attempts) -> bool:
        if isinstance(error, ExpiredToken | InvalidToken) and attempts.token < 1:
            attempts.token += 1
            portal_token_refresh(self.portal, token)
            return True
        if isinstance(error, QueryLimitExceeded) and attempts.limit < MAX_LIMIT_RETRIES:
            attempts.limit += 1
            log.warning("portal %s: 503 QUERY_LIMIT_EXCEEDED on %s", self.portal.member_id, method)
            self.limiter.penalize(_backoff(attempts.limit))
            return True
        if isinstance(error, OperationTimeLimit):
            self._pause(error, method)
            attempts.pause += 1
            return attempts.pause <= MAX_PAUSE_RETRIES
        if isinstance(error, PortalDeleted):
            _portal_mark_deleted(self.portal, error)
            return False
        if error.status and error.status >= 500 and not isinstance(error, QueryLimitExceeded):
            if read_only and attempts.server < MAX_SERVER_RETRIES:
                attempts.server += 1
                self._sleep(_backoff(attempts.server))
                return True
            if not read_only:
                raise OutcomeUnknown(error.code, f"{method}: {error.description}", error.status) from error
        return False

    def _pause(self, error: OperationTimeLimit, method: str) -> None:
        reset_at = error.extra.get("operating_reset_at") or (error.extra.get("time") or {}).get(
            "operating_reset_at") or time.time() + 60
        error.extra["reset_at"] = self.limiter.pause_method(method, float(reset_at))
        log.warning("portal %s: 429 on %s, paused until %s", self.portal.member_id, method, error.reset_at)

    def _batch_result(self, result: dict, commands: dict) -> BatchResult:
        def as_map(value):
            return value if isinstance(value, dict) else {}  # PHP's empty arrays arrive as []

        batch = BatchResult(results=as_map(result.get("result")), totals=as_map(result.get("result_total")),
                            nexts=as_map(result.get("result_next")))
        for key, entry in as_map(result.get("result_error")).items():
            error = error_from_batch_entry(entry)
            if isinstance(error, OperationTimeLimit) and key in commands:
                self._pause(error, commands[key][0])
            batch.errors[key] = error
        return batch


def _portal_mark_deleted(portal, error) -> None:
    from django.utils.translation import gettext as _

    from bx24app.models import Portal

    portal.status = Portal.Status.UNINSTALLED
    portal.status_reason = _("Битрикс24 сообщает, что портал удален (PORTAL_DELETED).")
    portal.save(update_fields=["status", "status_reason", "updated_at"])
