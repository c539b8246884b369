"""The small family of errors the Bitrix24 client raises; callers catch the narrowest they handle."""


class BitrixError(Exception):
    """An error answered by Bitrix24 (or its OAuth server): ``{"error", "error_description"}``."""

    def __init__(self, code: str = "", description: str = "", status: int | None = None, **extra):
        super().__init__(f"{code or 'ERROR'}: {description}" if description else (code or "ERROR"))
        self.code = code
        self.description = description
        self.status = status
        self.extra = extra

class ExpiredToken(BitrixError):
    """401 expired_token: refresh and retry."""

class InvalidToken(BitrixError):
    """401 invalid_token / NO_AUTH_FOUND: refresh once; if it persists the portal needs re-authorisation."""

class QueryLimitExceeded(BitrixError):
    """503 QUERY_LIMIT_EXCEEDED: the portal's leaky bucket overflowed."""

class OperationTimeLimit(BitrixError):
    """429 OPERATION_TIME_LIMIT: this method is blocked until ``reset_at`` (unix time)."""

    @property
    def reset_at(self) -> float | None:
        return self.extra.get("reset_at")

class AccessDenied(BitrixError):
    """403: not allowed (scope, tariff, user permissions)."""

class MethodNotFound(BitrixError):
    """404 ERROR_METHOD_NOT_FOUND."""

class PortalNeedsReauth(BitrixError):
    """The stored credentials no longer work (invalid_grant) or the portal is not active."""

class PortalDeleted(BitrixError):
    """PORTAL_DELETED: the portal is gone."""

class OutcomeUnknown(BitrixError):
    """A write was sent but its outcome is unknown (timeout, connection lost, 5xx); never retried blindly."""

class TransportError(BitrixError):
    """The request could not be made or its answer was not Bitrix24 JSON."""

def error_from_response(status: int, body: dict) -> BitrixError:
    """The narrowest error class for an error answer."""
    code = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    extra = {key: value for key, value in body.items() if key not in ("error", "error_description")}
    cls = _CLASS_BY_CODE.get(code.lower())
    if cls is None:
        cls = {403: AccessDenied, 404: MethodNotFound}.get(status, BitrixError)
    return cls(code, description, status, **extra)

def error_from_batch_entry(entry: dict) -> BitrixError:
    """A batch sub-command error (no HTTP status of its own)."""
    return error_from_response(0, entry if isinstance(entry, dict) else {"error_description": str(entry)})

_CLASS_BY_CODE = {
    "expired_token": ExpiredToken,
    "invalid_token": InvalidToken,
    "no_auth_found": InvalidToken,
    "query_limit_exceeded": QueryLimitExceeded,
    "operation_time_limit": OperationTimeLimit,
    "access_denied": AccessDenied,
    "insufficient_scope": AccessDenied,
    "invalid_credentials": AccessDenied,
    "user_access_error": AccessDenied,
    "error_method_not_found": MethodNotFound,
    "portal_deleted": PortalDeleted,
    "invalid_grant": PortalNeedsReauth,
}
