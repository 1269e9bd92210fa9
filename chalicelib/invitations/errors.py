"""The refusals invitations add to `chalicelib.errors`: a link past its use (410) and a caller searching too fast
(429). Handlers answer them like every other `AppError`."""
from __future__ import annotations

from chalicelib.errors import AppError


class Gone(AppError):
    """It existed and was genuine, but cannot be used any more (expired, revoked)."""

    status = 410
    code = "gone"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(AppError):
    """WeCom did not answer a lookup in time; trying again later may work."""

    status = 503
    code = "service_unavailable"
