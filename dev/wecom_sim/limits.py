"""Rate limits and injected faults: the two ways the simulator misbehaves on purpose.

WeCom limits each corp per API (10,000/min, 150,000/h) and blocks the (corp, API) for the rest of the window once a
limit is hit; faults stand in for WeCom being slow, busy, or unreachable. Neither is thread-safe alone: the server
calls them under its lock.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .state import Settings


@dataclass
class Limit:
    per_minute: int
    per_hour: int
    block_seconds: int


class RateLimiter:
    """Fixed windows per (corp, API path) with WeCom's block-after-exceeding behaviour."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._overrides: dict[tuple[str | None, str | None], Limit] = {}
        self._windows: dict[tuple[str, str, int], list[float]] = {}  # -> [window_start, count]
        self._blocked: dict[tuple[str, str], float] = {}

    def set_limit(self, per_minute: int, *, corpid: str | None = None, path: str | None = None,
                  per_hour: int | None = None, block_seconds: int | None = None) -> Limit:
        """Override the limit for a corp, a path, both, or (neither) everything."""
        limit = Limit(
            per_minute=per_minute,
            per_hour=per_hour if per_hour is not None else self._settings.rate_limit_per_hour,
            block_seconds=block_seconds if block_seconds is not None else self._settings.rate_limit_block_seconds,
        )
        self._overrides[(corpid, path)] = limit
        return limit

    def clear(self) -> None:
        """Back to the scenario's defaults, forgetting counters and blocks."""
        self._overrides.clear()
        self._windows.clear()
        self._blocked.clear()

    def _limit(self, corpid: str, path: str) -> Limit:
        for key in ((corpid, path), (corpid, None), (None, path), (None, None)):
            if key in self._overrides:
                return self._overrides[key]
        s = self._settings
        return Limit(s.rate_limit_per_minute, s.rate_limit_per_hour, s.rate_limit_block_seconds)

    def hit(self, corpid: str, path: str, now: float) -> bool:
        """Count one call; False means answer 45009 (over a limit, or still blocked from an earlier excess)."""
        if self._blocked.get((corpid, path), 0) > now:
            return False
        limit = self._limit(corpid, path)
        allowed = True
        for window, allowed_calls, block in ((60, limit.per_minute, limit.block_seconds),
                                             (3600, limit.per_hour, 3600)):
            state = self._windows.get((corpid, path, window))
            if state is None or now - state[0] >= window:
                state = self._windows[(corpid, path, window)] = [now, 0]
            state[1] += 1
            if state[1] > allowed_calls and allowed:
                allowed = False
                self._blocked[(corpid, path)] = now + block
        return allowed


@dataclass
class Fault:
    """What to do to calls on one path ("*" = every WeCom path)."""

    path: str
    latency_ms: int = 0
    http_status: int | None = None
    errcode: int | None = None
    drop: bool = False
    times: int | None = None  # only the next N calls; None = until cleared

    def as_dict(self) -> dict:
        return asdict(self)


class FaultTable:
    """One fault per path; a counted fault removes itself after its last use."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}

    def set(self, fault: Fault) -> None:
        self._faults[fault.path] = fault

    def clear(self, path: str | None = None) -> None:
        if path is None:
            self._faults.clear()
        else:
            self._faults.pop(path, None)

    def list(self) -> list[Fault]:
        return list(self._faults.values())

    def take(self, path: str) -> Fault | None:
        """The fault to apply to this call, consuming one use of a counted fault."""
        fault = self._faults.get(path) or self._faults.get("*")
        if fault is None:
            return None
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self._faults[fault.path]
        return fault
