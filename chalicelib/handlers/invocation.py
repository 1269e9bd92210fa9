"""What every invocation shares, whatever its trigger (HTTP, SQS, schedule): its WeCom calls end before it does.

Registered for all event types in app.py. Lambda's context says how long the invocation has left; every WeCom
call made while handling it — retries and backoff included — is bounded by that (`chalicelib.wecom.http.deadline`).
"""
from __future__ import annotations

from typing import Any, Callable

from chalice.app import Request

from chalicelib.wecom.http import deadline


def wecom_deadline(event: Any, get_response: Callable[[Any], Any]) -> Any:
    context = event.lambda_context if isinstance(event, Request) else getattr(event, "context", None)
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return get_response(event)
    with deadline(lambda: remaining_ms() / 1000):
        return get_response(event)
