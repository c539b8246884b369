"""The OAuth server (token refresh with rotation) and access-token checks for REST calls."""

import time

from .errors import ApiError
from .state import new_token

REFRESH_TTL = 180 * 24 * 3600  # reference §1.4: refresh tokens live 180 days
SCOPE = "crm,catalog,bizproc,im,placement,user,basic"


class OAuthError(Exception):
    """An OAuth-server error: ``{"error", "error_description"}`` with an HTTP status."""

    def __init__(self, code, description, status):
        super().__init__(code)
        self.code = code
        self.description = description
        self.status = status

    def payload(self):
        return {"error": self.code, "error_description": self.description}


def issue_access(store, member_id, user_id, ttl):
    token = new_token()
    with store.lock:
        store.access_tokens[token] = {
            "member_id": member_id,
            "user_id": int(user_id),
            "expires_at": time.time() + ttl,
        }
    return token


def issue_pair(store, member_id, user_id, ttl):
    """A fresh access/refresh token pair for ``user_id`` of the portal."""
    access = issue_access(store, member_id, user_id, ttl)
    refresh = new_token()
    with store.lock:
        store.refresh_tokens[refresh] = {
            "member_id": member_id,
            "user_id": int(user_id),
            "expires_at": time.time() + REFRESH_TTL,
        }
    return access, refresh


def resolve_access(store, token):
    """Return ``(portal, user)`` for a valid access token, else raise the documented 401."""
    with store.lock:
        record = store.access_tokens.get(token or "")
        if record is None:
            if not token:
                raise ApiError("NO_AUTH_FOUND", "Wrong authorization data", 401)
            raise ApiError("invalid_token", "The access token provided is invalid.", 401)
        if record["expires_at"] <= time.time():
            raise ApiError("expired_token", "The access token provided has expired.", 401)
        portal = store.portals.get(record["member_id"])
        if portal is None or not portal.get("installed", True):
            raise ApiError("invalid_token", "The access token provided is invalid.", 401)
        user = portal["users"].get(str(record["user_id"]))
        return portal, user


def expire_all(store, member_id=None):
    """Make every access token (of one portal, or all) expired right now."""
    with store.lock:
        for record in store.access_tokens.values():
            if member_id is None or record["member_id"] == member_id:
                record["expires_at"] = min(record["expires_at"], time.time() - 1)


def revoke_portal(store, member_id):
    """Forget every access and refresh token of a portal (uninstall)."""
    with store.lock:
        for table in (store.access_tokens, store.refresh_tokens):
            for token in [t for t, r in table.items() if r["member_id"] == member_id]:
                del table[token]


def token_response(portal, user_id, access, refresh, ttl, base_url):
    """The OAuth server's JSON answer (reference §1.4)."""
    host = base_url.split("://", 1)[1]
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires": int(time.time() + ttl),
        "expires_in": int(ttl),
        "member_id": portal["member_id"],
        "client_endpoint": f"{base_url}/rest/",
        "server_endpoint": f"{base_url}/rest/",
        "domain": host,
        "scope": SCOPE,
        "status": "F",
        "user_id": int(user_id),
    }


def refresh_grant(store, params, config, base_url):
    """Handle ``/oauth/token/``. Rotation: the used refresh token stops working."""
    grant_type = params.get("grant_type")
    if grant_type != "refresh_token":
        raise OAuthError("invalid_request", "Unsupported grant_type", 400)
    if params.get("client_id") != config.client_id or params.get("client_secret") != config.client_secret:
        raise OAuthError("invalid_client", "Invalid client credentials", 401)
    with store.lock:
        record = store.refresh_tokens.pop(params.get("refresh_token") or "", None)
        if record is None or record["expires_at"] <= time.time():
            raise OAuthError("invalid_grant", "Invalid grant", 400)
        portal = store.portals.get(record["member_id"])
        if portal is None or not portal.get("installed", True):
            raise OAuthError("invalid_grant", "Invalid grant", 400)
        access, refresh = issue_pair(store, portal["member_id"], record["user_id"], config.token_ttl)
        return token_response(portal, record["user_id"], access, refresh, config.token_ttl, base_url)
