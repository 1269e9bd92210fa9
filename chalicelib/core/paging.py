"""The `limit` of every list, parsed one way: absent (or empty) is the list's default, a whole number from 1 to the
list's maximum is taken as is, and anything else — 0, negative, not a number, above the maximum — is a 400
`invalid_limit` naming the bounds. Nothing is clamped, so a caller learns at once that it asked for something the
list does not give."""
from __future__ import annotations

import re

from chalicelib.core.errors import BadRequest

_WHOLE = re.compile(r"^[0-9]{1,6}$")  # ASCII digits only: int() would also take "+5", " 5", "٥"


def page_size(raw: object, *, default: int, maximum: int) -> int:
    """The page size a request asked for (`raw` is the query parameter as sent, or None)."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not _WHOLE.match(raw) or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit must be a whole number from 1 to {maximum}", code="invalid_limit")
    return int(raw)
