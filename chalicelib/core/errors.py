"""Errors the domain raises and the handlers turn into `{"error": {"code", "message"}}` replies.

Plain Python on purpose: domain modules raise these without knowing about HTTP frameworks.
"""
from __future__ import annotations


MAX_MESSAGE = 300  # an error message quotes what the caller sent only this far: it never echoes unbounded input
MAX_QUOTED = 64


def quoted(value: object) -> str:
    """`value` as an error message quotes it: its repr, cut short (a caller's 1 MB id is not sent back)."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED - 1] + "…"


class AppError(Exception):
    """A refusal the caller can act on: a stable machine code, a human message and the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE - 1] + "…"
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Gone(AppError):
    """It existed and was genuine, but cannot be used any more (an expired or revoked link)."""

    status = 410
    code = "gone"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(AppError):
    """429; `retry_after` (seconds), when known, becomes the answer's Retry-After."""

    status = 429
    code = "too_many_requests"
    retry_after: int | None = None


class ServiceUnavailable(AppError):
    """Something we depend on (WeCom) did not answer in time; trying again later may work."""

    status = 503
    code = "service_unavailable"


class TenantNotFound(NotFound):
    code = "tenant_not_found"

    def __init__(self, tenant_key: str) -> None:
        super().__init__(f"no tenant {quoted(tenant_key)}")


class PermanentError(Exception):
    """Queued work that can never succeed (unknown tenant, malformed message, WeCom refusing for good).

    A consumer dead-letters it at once, with `reason`, instead of retrying it to the limit.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class RetryLater(Exception):
    """Queued work that should wait `seconds` before its next attempt (a rate limit, WeCom busy)."""

    def __init__(self, seconds: int, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason
