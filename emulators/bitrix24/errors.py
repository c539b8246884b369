"""The REST error type: a documented error code, its description and HTTP status."""


class ApiError(Exception):
    """Raised by method handlers; rendered as ``{"error", "error_description"}``."""

    def __init__(self, code, description="", status=400, **extra):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        self.extra = extra

    def payload(self):
        body = {"error": self.code, "error_description": self.description}
        body.update(self.extra)
        return body


def not_found(what):
    return ApiError("NOT_FOUND", f"{what} not found", 400)


def required(name):
    return ApiError("INVALID_ARG_VALUE", f"Required field '{name}' is not set", 400)


def access_denied(description="Access denied."):
    return ApiError("ACCESS_DENIED", description, 403)
