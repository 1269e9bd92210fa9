"""Opaque list cursors: the position (a sort key) of the last item a page returned, base64url-encoded JSON.

A cursor only ever positions a Query inside the caller's own partition (the partition comes from the session), and
it is checked against the prefix the list reads, so a forged one can at worst restart or end a list.
"""
from __future__ import annotations

import base64
import binascii
import json

from chalicelib.core.errors import BadRequest

MAX_CURSOR = 2048


def _invalid() -> BadRequest:
    return BadRequest("the cursor is not one this list gave out", code="invalid_cursor")


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8")).decode("ascii")


def _decode(cursor: str) -> dict:
    if len(cursor) > MAX_CURSOR:
        raise _invalid()
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"==="))
    except (ValueError, binascii.Error, UnicodeError):
        raise _invalid() from None
    if not isinstance(payload, dict):
        raise _invalid()
    return payload


def encode_one(sort_key: str) -> str:
    return _encode({"after": sort_key})


def decode_one(cursor: str | None, prefix: str) -> str | None:
    """The sort key to continue after, or None for the first page."""
    if not cursor:
        return None
    after = _decode(cursor).get("after")
    if not isinstance(after, str) or not after.startswith(prefix):
        raise _invalid()
    return after


def encode_many(positions: dict[str, str]) -> str:
    """Positions in several per-kind streams (a section's list merges them)."""
    return _encode({"after": positions})


def decode_many(cursor: str | None, prefixes: dict[str, str]) -> dict[str, str]:
    """{kind: sort key to continue after} for the kinds this list reads (a kind not yet read is absent)."""
    if not cursor:
        return {}
    positions = _decode(cursor).get("after")
    if not isinstance(positions, dict) or set(positions) - set(prefixes):
        raise _invalid()
    for kind, after in positions.items():
        if not isinstance(after, str) or not after.startswith(prefixes[kind]):
            raise _invalid()
    return positions
