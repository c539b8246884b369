"""Calls to the Bitrix24 OAuth server, only ever on a server from BITRIX24_OAUTH_SERVERS."""

from urllib.parse import urlsplit

import requests
from django.conf import settings

from .errors import BitrixError, PortalNeedsReauth, TransportError, error_from_response


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def allowed_oauth_server(server_endpoint: str) -> str | None:
    """The allow-list entry (its base URL) matching ``server_endpoint`` by scheme+host+port, else None."""
    wanted = _origin(server_endpoint or "")
    for entry in settings.BITRIX24_OAUTH_SERVERS:
        if _origin(entry) == wanted:
            parts = urlsplit(entry)
            return f"{parts.scheme}://{parts.netloc}"
    return None


def require_allowed_oauth_server(server_endpoint: str) -> str:
    base = allowed_oauth_server(server_endpoint)
    if base is None:
        raise TransportError("OAUTH_SERVER_NOT_ALLOWED", f"{server_endpoint!r} is not in BITRIX24_OAUTH_SERVERS")
    if base.startswith("http://") and not settings.BITRIX24_ALLOW_HTTP:
        raise TransportError("HTTPS_REQUIRED", f"{base} is not https and BITRIX24_ALLOW_HTTP is off")
    return base


def _json_or_error(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise TransportError("BAD_ANSWER", f"HTTP {response.status_code}: not JSON", response.status_code) from exc
    if not isinstance(body, dict):
        raise TransportError("BAD_ANSWER", "not a JSON object", response.status_code)
    if response.status_code >= 400 or body.get("error"):
        raise error_from_response(response.status_code, body)
    return body


def _post(url: str, data: dict) -> dict:
    headers = {"User-Agent": settings.BITRIX24_USER_AGENT}
    try:
        response = requests.post(url, data=data, headers=headers, timeout=settings.BITRIX24_HTTP_TIMEOUT,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise TransportError("CONNECTION", str(exc)) from exc
    return _json_or_error(response)


def oauth_app_info(server_endpoint: str, access_token: str) -> dict:
    """``app.info`` on the (allowed) OAuth server: who this token belongs to, according to Bitrix24."""
    base = require_allowed_oauth_server(server_endpoint)
    return _post(f"{base}/rest/app.info", {"auth": access_token}).get("result") or {}


def oauth_token_refresh(server_endpoint: str, refresh_token: str) -> dict:
    """Exchange a refresh token (form POST, so the secret stays out of URLs); returns the new pair."""
    base = require_allowed_oauth_server(server_endpoint)
    data = {
        "grant_type": "refresh_token",
        "client_id": settings.BITRIX24_CLIENT_ID,
        "client_secret": settings.BITRIX24_CLIENT_SECRET,
        "refresh_token": refresh_token,
    }
    try:
        body = _post(f"{base}/oauth/token/", data)
    except PortalNeedsReauth:
        raise
    except BitrixError as exc:
        if exc.code in ("NOT_INSTALLED", "PAYMENT_REQUIRED"):
            raise PortalNeedsReauth(exc.code, exc.description, exc.status) from exc
        raise
    if not body.get("access_token") or not body.get("refresh_token"):
        raise TransportError("BAD_ANSWER", "the OAuth server answered without tokens")
    return body
