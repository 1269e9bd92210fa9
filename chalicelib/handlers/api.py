"""The HTTP conventions every route shares: JSON errors, request-scoped logging, and the blueprint that applies them.

Chalice turns any exception raised in a view into its own `{"Code", "Message"}` body; routes declared through
`ApiBlueprint.route` turn the domain's `AppError` into our `{"error": {"code", "message"}}` with the right status
instead, and `json_errors` rewrites the bodies Chalice produces itself (bad JSON, unhandled errors) the same way.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Callable

from chalice import Blueprint, Response

from chalicelib.core.errors import MAX_MESSAGE, AppError, TooManyRequests
from chalicelib.core.observability import bind_request, logger

JSON = "application/json"


def error_response(status: int, code: str, message: str) -> Response:
    return Response(
        body=json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": JSON},
    )


def app_error_response(err: AppError) -> Response:
    response = error_response(err.status, err.code, err.message)
    if isinstance(err, TooManyRequests) and err.retry_after:
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def refused(err: AppError) -> Response:
    """The answer to a refusal, logged."""
    logger.info("request refused", extra={"code": err.code, "status": err.status})
    return app_error_response(err)


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes answer AppError with our JSON error body."""

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def answering_errors(*args: Any, **kw: Any) -> Any:
                try:
                    return view(*args, **kw)
                except AppError as err:
                    return refused(err)

            register(answering_errors)
            return view

        return decorator


_CHALICE_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
}


# On every answer, page or API: HTTPS only from now on for this host (API Gateway serves nothing else), and no
# content-type guessing. An answer that sets no Cache-Control of its own (the API: sessions, tokens, personal data)
# is never stored by a browser or a proxy; the pages set theirs (handlers/web.py).
ALWAYS_HEADERS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains", "X-Content-Type-Options": "nosniff"}
DEFAULT_CACHE_CONTROL = "no-store"


def _secured(response: Response) -> Response:
    headers = response.headers
    headers.update(ALWAYS_HEADERS)
    if not any(name.lower() == "cache-control" for name in headers):
        headers["Cache-Control"] = DEFAULT_CACHE_CONTROL
    return response


def json_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: one log context per request, Chalice's own error bodies in our shape, and the headers every
    answer carries (`ALWAYS_HEADERS`, `Cache-Control: no-store` unless the route chose its own)."""
    context = getattr(event, "context", None) or {}
    bind_request(context.get("requestId"), (getattr(event, "uri_params", None) or {}).get("tenantKey"))
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body and "Message" in body:
        status = response.status_code
        message = "internal error" if status >= 500 else str(body["Message"])[:MAX_MESSAGE]
        response = error_response(status, _CHALICE_CODES.get(status, "error"), message)
    return _secured(response)
