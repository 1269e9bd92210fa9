"""The note an inviting member may add to either kind of invitation (a WeChat-friend link, an invitation to another
organisation): one rule, so that both answer the same note alike."""
from __future__ import annotations

from chalicelib.core.errors import BadRequest

MAX_NOTE = 200


def note(value: object) -> str | None:
    """The note, trimmed; None when missing or blank. Anything but text of at most `MAX_NOTE` characters is a 400
    `invalid_note`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_NOTE:
        raise BadRequest(f"note must be text of at most {MAX_NOTE} characters", code="invalid_note")
    return value.strip()
