"""The call log: every WeCom call the simulator answered, so tests and benchmarks can count and inspect calls."""
from __future__ import annotations

import threading
from collections import deque
from typing import Any

MAX_CALLS = 500_000  # bounded so a long local-stack session cannot grow without limit


def normalise_path(path: str) -> str:
    """Accept "user/get", "/cgi-bin/user/get" or "/sns/oauth2/access_token" and return the full path."""
    if path.startswith("/"):
        return path
    return "/cgi-bin/" + path


class CallLog:
    """Thread-safe, append-only (until cleared) record of calls."""

    def __init__(self) -> None:
        self._calls: deque[dict] = deque(maxlen=MAX_CALLS)
        self._seq = 0
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> dict:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._calls.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def select(self, path: str | None = None, corpid: str | None = None, errcode: int | None = None) -> list[dict]:
        """Calls in order, filtered by path (either spelling), corp and errcode."""
        full = normalise_path(path) if path else None
        with self._lock:
            calls = list(self._calls)
        return [c for c in calls
                if (full is None or c["path"] == full)
                and (corpid is None or c["corpid"] == corpid)
                and (errcode is None or c["errcode"] == errcode)]
