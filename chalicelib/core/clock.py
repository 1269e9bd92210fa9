"""The one clock the accounts package reads (activation expiry, lockout windows), so tests can move time."""
from __future__ import annotations

import time


def now() -> float:
    """Seconds since the epoch."""
    return time.time()
