"""Throttling password checks: per account name and per source address, within one tenant.

Per account name: at most five attempts that have not succeeded within fifteen minutes; the fifth failure locks the
name for fifteen minutes (429 `account_locked`). The name is counted whether or not an account by that name exists,
so the lock says nothing about which names exist. Each attempt takes its slot *before* the password is checked
(a failed attempt is simply a slot never given back), so a burst of parallel requests gets no more than five
guesses through; a success empties the slots.

Per source address (API Gateway's `sourceIp`, never a client-supplied header): at most twenty failed attempts per
fifteen minutes across every name (429 `too_many_attempts`), measured over a sliding window estimated from two
fixed windows (the previous one weighted by how much of it still overlaps). Attempts are counted before the check
and given back on success.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from chalicelib.core import clock
from chalicelib.core.errors import TooManyRequests
from chalicelib.store import login_throttle as store

WINDOW_SECONDS = 15 * 60
ACCOUNT_FAILURES = store.SLOTS
LOCK_SECONDS = 15 * 60
SOURCE_FAILURES = 20
RACE_RETRIES = 5
_IP = re.compile(r"^[0-9A-Fa-f.:]{2,45}$")


class Throttled(TooManyRequests):
    """Too many attempts: 429 with how long to wait."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, code: str, retry_after: float) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass(frozen=True)
class Attempt:
    """The counters one sign-in attempt took, to settle once the password was checked."""

    tenant_key: str
    account_key: str
    source_key: str


def account_key(account_name: str) -> str:
    """The counter of an attempted name (hashed: any string a client sends, bounded in size)."""
    return "acct#" + hashlib.sha256(account_name.strip().lower().encode("utf-8")).hexdigest()[:40]


def _source_keys(source_ip: str, at: float) -> tuple[str, str, float]:
    ip = source_ip if _IP.match(source_ip or "") else "unknown"
    window = int(at // WINDOW_SECONDS)
    overlap = 1 - (at - window * WINDOW_SECONDS) / WINDOW_SECONDS
    return f"ip#{ip}#{window - 1}", f"ip#{ip}#{window}", overlap


def _take_source(tenant_key: str, source_ip: str, at: float) -> str:
    previous_key, current_key, overlap = _source_keys(source_ip, at)
    found = store.counts(tenant_key, [previous_key, current_key])
    # This attempt fits if the current count after it, plus the previous window's overlapping share, stays <= 20.
    cap = math.floor(SOURCE_FAILURES - found[previous_key] * overlap)
    window_ends = (int(at // WINDOW_SECONDS) + 1) * WINDOW_SECONDS
    if found[current_key] >= cap or not store.add_below(tenant_key, current_key, cap, window_ends + WINDOW_SECONDS):
        raise Throttled("too many failed sign-in attempts from this address; try again later",
                        code="too_many_attempts", retry_after=window_ends - at)
    return current_key


def _locked(retry_after: float) -> Throttled:
    return Throttled("too many failed attempts on this account; try again later", code="account_locked",
                     retry_after=retry_after)


def _take_account_slot(tenant_key: str, key: str, at: float) -> None:
    for _ in range(RACE_RETRIES):
        item = store.get(tenant_key, key)
        if item is not None and item.locked_until is not None and item.locked_until > at:
            raise _locked(item.locked_until - at)
        taken = store.slots(item)
        free = [i for i, t in enumerate(taken) if t is None or t <= at - WINDOW_SECONDS]
        if not free:
            # Five attempts within the window, none succeeded: in flight, or failed without the lock recorded yet.
            raise _locked(min(taken) + WINDOW_SECONDS - at)
        if store.take_slot(tenant_key, key, free[0], taken[free[0]], at, at + WINDOW_SECONDS + LOCK_SECONDS):
            return
    raise _locked(WINDOW_SECONDS)


def begin(tenant_key: str, account_name: str, source_ip: str) -> Attempt:
    """Take the attempt's place in both counters, or refuse it (Throttled) before any password is checked."""
    at = clock.now()
    source_key = _take_source(tenant_key, source_ip, at)
    key = account_key(account_name)
    try:
        _take_account_slot(tenant_key, key, at)
    except Throttled:
        store.give_back(tenant_key, source_key)
        raise
    return Attempt(tenant_key, key, source_key)


def failed(attempt: Attempt) -> None:
    """The password was wrong (or the name unknown): the slots stay taken; the fifth within the window locks."""
    at = clock.now()
    taken = store.slots(store.get(attempt.tenant_key, attempt.account_key))
    if all(t is not None and t > at - WINDOW_SECONDS for t in taken):
        store.lock(attempt.tenant_key, attempt.account_key, at + LOCK_SECONDS)


def succeeded(attempt: Attempt) -> None:
    """The password was right: the name's failures are forgotten and the address's attempt is given back."""
    store.clear(attempt.tenant_key, attempt.account_key)
    store.give_back(attempt.tenant_key, attempt.source_key)
