"""A client-side rate limit per corp and API path that holds across every Lambda instance.

WeCom allows 10,000 calls per corp per API per minute and then blocks that API for the corp for a whole minute, so
bulk work (writing the 与我协作 link for thousands of members) must stay below the limit on its own. The count is
shared in a store (DynamoDB): one counter per (corp, path, minute window). An instance does not write once per call:
it reserves permits in blocks with one conditional increment, refused when the block would take the window past the
limit, then spends the block locally. Unspent permits of a block are simply lost at the end of the window — the
limit errs on the safe side.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from chalicelib.wecom.errors import RateLimited
from chalicelib.wecom.http import Sleep

DEFAULT_PER_MINUTE = 6000  # well below WeCom's 10,000: other tools of the same corp call the same APIs
DEFAULT_BLOCK = 50
WINDOW_SECONDS = 60
COUNTER_GRACE = 120  # counters outlive their window a little, then TTL removes them


class PermitStore(Protocol):
    def take(self, key: str, count: int, limit: int, expires_at: float) -> int:
        """Reserve up to `count` of the `limit` permits of the window `key`; how many were reserved (0: spent)."""


@dataclass
class _Bucket:
    window: int
    remaining: int
    spent: bool = False  # the shared window is exhausted: stop asking the store until the next window


class RateLimiter:
    """Hands out permits for WeCom calls; one per process, shared by all clients and threads."""

    def __init__(
        self,
        store: PermitStore,
        *,
        per_minute: int = DEFAULT_PER_MINUTE,
        block: int = DEFAULT_BLOCK,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        if per_minute < 1 or block < 1:
            raise ValueError("per_minute and block must be positive")
        self.per_minute = per_minute
        self.block = min(block, per_minute)
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, corpid: str, path: str, *, wait: bool = True) -> None:
        """Take one permit. When the window is spent, wait for the next one — or, with `wait=False`, raise
        `RateLimited` so that a queue consumer can put its message back for `retry_after` seconds instead."""
        while True:
            retry_after = self._try_acquire(corpid, path)
            if retry_after is None:
                return
            if not wait:
                raise RateLimited(corpid, path, retry_after)
            self._sleep(retry_after)

    def _try_acquire(self, corpid: str, path: str) -> float | None:
        """None when a permit was taken, else the seconds until the next window."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        window_end = (window + 1) * WINDOW_SECONDS
        with self._lock:
            bucket = self._buckets.get((corpid, path))
            if bucket is None or bucket.window != window:
                bucket = self._buckets[(corpid, path)] = _Bucket(window, 0)
            if bucket.remaining == 0 and not bucket.spent:
                bucket.remaining = self._store.take(
                    f"{corpid}#{path}#{window}", self.block, self.per_minute, window_end + COUNTER_GRACE
                )
                bucket.spent = bucket.remaining == 0
            if bucket.remaining > 0:
                bucket.remaining -= 1
                return None
        return max(window_end - now, 0.0) + 0.01
