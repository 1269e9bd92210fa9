"""Opaque page cursors: DynamoDB's LastEvaluatedKey as base64url JSON, checked on the way back in.

A cursor is only a position, but it is also input: one naming another member's partition (or another tenant's, or
another contact's history) would read it, so `decode` insists that the hash key is exactly the one the request is
entitled to and that nothing but the expected key attributes is present.
"""
from __future__ import annotations

import base64
import binascii
import json

from chalicelib.core.errors import BadRequest

MAX_CURSOR = 2048


def encode(last_evaluated_key: dict | None, extra: dict | None = None) -> str | None:
    if last_evaluated_key is None:
        return None
    payload = {"k": last_evaluated_key, **(extra or {})}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _invalid() -> BadRequest:
    return BadRequest("the cursor is not one this list gave out", code="invalid_cursor")


def decode_payload(cursor: str | None) -> dict | None:
    """The cursor's JSON payload (None for no cursor); 400 `invalid_cursor` when it is not one of ours."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise _invalid()
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), dict):
        raise _invalid()
    return payload


def check_key(key: dict, fixed: dict[str, str], free: tuple[str, ...]) -> dict:
    """A LastEvaluatedKey whose `fixed` attributes hold exactly these values and whose `free` ones are strings."""
    if set(key) != set(fixed) | set(free):
        raise _invalid()
    for name, value in key.items():
        if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str):
            raise _invalid()
        if name in fixed and value["S"] != fixed[name]:
            raise _invalid()
    return key


def decode(cursor: str | None, fixed: dict[str, str], free: tuple[str, ...]) -> dict | None:
    payload = decode_payload(cursor)
    return None if payload is None else check_key(payload["k"], fixed, free)
