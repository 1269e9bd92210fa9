"""The simulator's clock: real time plus an offset tests can advance, so expiry and rate windows are testable."""
from __future__ import annotations

import threading
import time


class SimClock:
    """Wall-clock time shifted by a manually advanced offset (never goes backwards)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current simulated unix time in seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move simulated time forward and return the new now()."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        """Back to real time (used when a scenario is (re)loaded)."""
        with self._lock:
            self._offset = 0.0
