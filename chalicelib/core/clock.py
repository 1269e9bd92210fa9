"""The one clock the domain and the store read: expiries, lockout windows, leases, stamps and sortable ids.

A test moves time for all of them by patching `clock.now`; `utcnow` is derived from it. Read it as `clock.now()` /
`clock.utcnow()` through the module, never by importing the function, so that a patched clock is the one read.
The WeCom client's token cache and rate limiter take their clock as a parameter (they know nothing of Yunqiao), and
durations within one invocation use `time.monotonic`, which no test needs to move.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    """Seconds since the epoch."""
    return time.time()


def utcnow() -> datetime:
    """The same instant as an aware UTC datetime (what PynamoDB's UTCDateTimeAttribute stores)."""
    return datetime.fromtimestamp(now(), timezone.utc)
