"""Opaque pagination cursors.

WeCom cursors are opaque strings; ours encode a resume position *by key* (not by offset) so that members or customers
added or removed between two pages never make an item appear twice or vanish, and each page costs O(page).
"""
from __future__ import annotations

import base64
import json

from .errors import WeComError


def encode(api: str, position: dict) -> str:
    """Cursor for an API resuming at the given position."""
    raw = json.dumps({"a": api, **position}, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(api: str, cursor: str | None, *keys: str) -> dict | None:
    """Position encoded in a cursor of this API (with these keys); None for the first page; 50100 for anything else."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise WeComError(50100) from None
    if not isinstance(data, dict) or data.pop("a", None) != api or any(k not in data for k in keys):
        raise WeComError(50100)
    return data
