"""In-memory stand-ins for the shared stores, with the same conditional semantics as the DynamoDB ones."""
from __future__ import annotations

import threading

from chalicelib.wecom.tokens import CacheEntry, Token


class MemoryTokenCache:
    def __init__(self) -> None:
        self.items: dict[str, dict] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def read(self, key: str) -> CacheEntry:
        with self._lock:
            item = self.items.get(key, {})
            return CacheEntry(item.get("token"), item.get("lease_until", 0.0))

    def lease(self, key: str, holder: str, *, now: float, until: float, current: str | None) -> bool:
        with self._lock:
            item = self.items.setdefault(key, {})
            token = item.get("token")
            if item.get("lease_until", 0.0) > now or (token.value if token else None) != current:
                return False
            item.update(holder=holder, lease_until=until)
            self.writes += 1
            return True

    def store(self, key: str, holder: str, token: Token) -> bool:
        with self._lock:
            item = self.items.setdefault(key, {})
            if item.get("holder") != holder:
                return False
            item.update(token=token, holder=None, lease_until=0.0)
            self.writes += 1
            return True

    def release(self, key: str, holder: str) -> None:
        with self._lock:
            item = self.items.setdefault(key, {})
            if item.get("holder") == holder:
                item.update(holder=None, lease_until=0.0)

    def drop(self, key: str, value: str) -> None:
        with self._lock:
            item = self.items.get(key, {})
            if item.get("token") is not None and item["token"].value == value:
                item["token"] = None


class MemoryPermitStore:
    def __init__(self) -> None:
        self.used: dict[str, int] = {}
        self.takes: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def take(self, key: str, count: int, limit: int, expires_at: float) -> int:
        with self._lock:
            granted = max(0, min(count, limit - self.used.get(key, 0)))
            self.used[key] = self.used.get(key, 0) + granted
            self.takes.append((key, granted))
            return granted


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
