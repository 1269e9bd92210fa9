"""Anti-automation for password checks that an attacker cannot turn against the account's owner (ASVS V2.2.1).

Nothing here locks an account. Three limits, each taken *before* the password is checked (so a burst of parallel
requests gets no more checks through than one request after another would):

- **Per account name and source address** (API Gateway's `sourceIp`, never a client-supplied header): the first
  four attempts without a success are free; from the fifth on, each one pushes the next check out by a growing
  delay (30 s, 60 s, 120 s … at most 15 minutes). A success forgets them, and so does an hour's quiet. Only that
  source waits: the owner signing in from anywhere else never sees it.
- **Per account name**, from sources that never signed in to it: at most 100 attempts an hour (a sliding window
  estimated from two fixed ones). A distributed guesser is bounded; the owner, from a source that signed in to
  the name before (`known#`, 30 days), is not subject to it.
- **Per source address**, across the names it never signed in to: at most 20 attempts per 15 minutes, so one
  address cannot spray a password over many names; again a name's known source is exempt, so a shared office
  address full of someone's guesses does not stop the people who sign in from it.

The same sliding window limits other actions a person could repeat to flood someone (`take_rate`: messages between
contacts and members), on counters of their own (`rate#<name>#<window>`).

Names are counted whether or not an account by that name exists, so the answers say nothing about which exist.
Window counts are given back on success, so successes never count.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from chalicelib.core import clock
from chalicelib.core.errors import TooManyRequests
from chalicelib.store import login_throttle as store

FREE_ATTEMPTS = 4
FIRST_DELAY = 30
MAX_DELAY = 15 * 60
QUIET_RESET = 60 * 60
KNOWN_SECONDS = 30 * 24 * 3600
ACCOUNT_WINDOW, ACCOUNT_ATTEMPTS = 60 * 60, 100
SOURCE_WINDOW, SOURCE_ATTEMPTS = 15 * 60, 20
RACE_RETRIES = 5
_IP = re.compile(r"^[0-9A-Fa-f.:]{2,45}$")


class Throttled(TooManyRequests):
    """Too many attempts: 429 `too_many_attempts` with how long to wait."""

    code = "too_many_attempts"

    def __init__(self, retry_after: float, message: str = "too many failed sign-in attempts; try again later",
                 code: str = "too_many_attempts") -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass(frozen=True)
class Attempt:
    """The counters one sign-in attempt took, to settle once the password was checked."""

    tenant_key: str
    pair_key: str
    known_key: str
    window_keys: tuple[str, ...]


def account_key(account_name: str) -> str:
    """The counter of an attempted name (hashed: any string a client sends, bounded in size)."""
    return "acct#" + hashlib.sha256(account_name.strip().lower().encode("utf-8")).hexdigest()[:40]


def delay_after(attempts: int) -> int:
    """Seconds before the next check once a pair has taken `attempts` without a success."""
    if attempts <= FREE_ATTEMPTS:
        return 0
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (attempts - FREE_ATTEMPTS - 1))


def _window_keys(prefix: str, at: float, seconds: int) -> tuple[str, str, float]:
    window = int(at // seconds)
    overlap = 1 - (at - window * seconds) / seconds
    return f"{prefix}#{window - 1}", f"{prefix}#{window}", overlap


def _source_keys(source_ip: str, at: float) -> tuple[str, str, float]:
    ip = source_ip if _IP.match(source_ip or "") else "unknown"
    return _window_keys(f"ip#{ip}", at, SOURCE_WINDOW)


def _take_window(tenant_key: str, keys: tuple[str, str, float], found: dict, limit: int, seconds: int,
                 at: float) -> str:
    """Count the attempt in a sliding window (the previous fixed window weighted by its overlap), or refuse it."""
    previous_key, current_key, overlap = keys
    seen = store.counts(found, [previous_key, current_key])
    cap = math.floor(limit - seen[previous_key] * overlap)
    window_ends = (int(at // seconds) + 1) * seconds
    if seen[current_key] >= cap or not store.add_below(tenant_key, current_key, cap, window_ends + seconds):
        raise Throttled(window_ends - at)
    return current_key


def _take_pair(tenant_key: str, key: str, item: store.Counter | None, at: float) -> None:
    for _ in range(RACE_RETRIES):
        taken = int(item.count or 0) if item is not None else 0
        next_at = float(item.next_at or 0) if item is not None else 0.0
        if next_at > at:
            raise Throttled(next_at - at)
        quiet = item is not None and item.ttl is not None and item.ttl.timestamp() <= at
        attempts = 1 if quiet else taken + 1
        wait = delay_after(attempts)
        # A free attempt leaves nextAt alone: racing requests whose clocks differ by a millisecond must not refuse
        # each other.
        if store.take_pair(tenant_key, key, None if item is None else taken, attempts,
                           at + wait if wait else next_at, at + wait + QUIET_RESET):
            return
        item = store.get(tenant_key, key)
    raise Throttled(1)


def begin(tenant_key: str, account_name: str, source_ip: str) -> Attempt:
    """Take the attempt's place in every limit that applies, or refuse it (Throttled) before any password is
    checked. One BatchGetItem reads them all."""
    at = clock.now()
    name = account_key(account_name)[len("acct#"):]
    ip = source_ip if _IP.match(source_ip or "") else "unknown"
    pair_key, known_key = f"pair#{name}#{ip}", f"known#{name}#{ip}"
    account_windows = _window_keys(f"acct#{name}", at, ACCOUNT_WINDOW)
    source_windows = _source_keys(ip, at)
    found = store.get_many(tenant_key, [pair_key, known_key, *account_windows[:2], *source_windows[:2]])
    taken: list[str] = []
    try:
        if known_key not in found:
            taken.append(_take_window(tenant_key, account_windows, found, ACCOUNT_ATTEMPTS, ACCOUNT_WINDOW, at))
            taken.append(_take_window(tenant_key, source_windows, found, SOURCE_ATTEMPTS, SOURCE_WINDOW, at))
        _take_pair(tenant_key, pair_key, found.get(pair_key), at)
    except Throttled:
        for key in taken:
            store.give_back(tenant_key, key)
        raise
    return Attempt(tenant_key, pair_key, known_key, tuple(taken))


def succeeded(attempt: Attempt) -> None:
    """The password was right: this source's attempts on the name are forgotten, the source is known for the name
    from now on, and the window counts are given back. (A wrong one leaves everything as taken.)"""
    store.clear(attempt.tenant_key, attempt.pair_key)
    store.remember(attempt.tenant_key, attempt.known_key, clock.now() + KNOWN_SECONDS)
    for key in attempt.window_keys:
        store.give_back(attempt.tenant_key, key)


def take_rate(tenant_key: str, name: str, limit: int, seconds: int, *, message: str, code: str) -> None:
    """Count one action named `name` in a sliding window of `limit` per `seconds`, or refuse it (Throttled with this
    message and code, and when the window allows the next one): the window of the sign-in limits above."""
    at = clock.now()
    keys = _window_keys(f"rate#{name}", at, seconds)
    found = store.get_many(tenant_key, list(keys[:2]))
    try:
        _take_window(tenant_key, keys, found, limit, seconds, at)
    except Throttled as err:
        raise Throttled(err.retry_after, message, code) from None
