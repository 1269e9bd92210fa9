"""Token sources sharing one cache: who fetches, when, and what is dropped — with an in-memory cache and clock."""
from __future__ import annotations

import threading
import time

import pytest

from chalicelib.wecom.errors import WeComApiError
from chalicelib.wecom.tokens import TokenSource, call_with_token, credential_key
from tests.unit.wecom.fakes import FakeClock, MemoryTokenCache


class Fetcher:
    """Issues token-1, token-2, ... like gettoken, counting the calls."""

    def __init__(self, expires_in: int = 7200, delay: float = 0.0) -> None:
        self.calls = 0
        self.expires_in = expires_in
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self) -> tuple[str, int]:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.calls += 1
            return f"token-{self.calls}", self.expires_in


def source(cache, fetch, clock, **options) -> TokenSource:
    return TokenSource("wwcorp#abc", fetch, cache, clock=clock, sleep=clock.sleep, **options)


def test_credential_key_names_the_owner_but_never_the_secret():
    key = credential_key("wwcorp", "wwcorp", "the-secret")
    assert key.startswith("wwcorp#")
    assert "the-secret" not in key
    assert key != credential_key("wwcorp", "wwcorp", "another-secret")


def test_one_fetch_serves_every_instance_until_the_refresh_point():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    first, second = source(cache, fetch, clock), source(cache, fetch, clock)
    assert first.token() == "token-1"
    assert second.token() == "token-1"
    clock.now += 7200 - 300 - 1
    assert first.token() == second.token() == "token-1"
    assert fetch.calls == 1


def test_refreshes_five_minutes_ahead_of_expiry_once_for_all_instances():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    first, second = source(cache, fetch, clock), source(cache, fetch, clock)
    first.token()
    second.token()
    clock.now += 7200 - 300
    assert second.token() == "token-2"
    assert first.token() == "token-2"
    assert fetch.calls == 2


def test_a_short_lived_token_is_refreshed_at_half_its_life_not_constantly():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(expires_in=60), FakeClock(1000.0)
    tokens = source(cache, fetch, clock)
    tokens.token()
    clock.now += 29
    tokens.token()
    assert fetch.calls == 1
    clock.now += 1
    assert tokens.token() == "token-2"


def test_invalidate_drops_only_the_token_it_names():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    slow, fast = source(cache, fetch, clock), source(cache, fetch, clock)
    stale = slow.token()
    fast.invalidate(stale)
    assert fast.token() == "token-2"
    slow.invalidate(stale)  # late: the cache already holds token-2, which must survive
    assert slow.token() == "token-2"
    assert fetch.calls == 2


def test_call_with_token_refreshes_once_and_retries_once():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    tokens = source(cache, fetch, clock)
    seen: list[str] = []

    def call(token: str) -> str:
        seen.append(token)
        if token == "token-1":
            raise WeComApiError(40014, "invalid access_token", "user/get")
        return "answer"

    assert call_with_token(tokens, call) == "answer"
    assert seen == ["token-1", "token-2"]


def test_call_with_token_gives_up_after_one_refresh():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    tokens = source(cache, fetch, clock)
    calls: list[str] = []

    def call(token: str) -> str:
        calls.append(token)
        raise WeComApiError(42001, "expired", "user/get")

    with pytest.raises(WeComApiError) as caught:
        call_with_token(tokens, call)
    assert caught.value.errcode == 42001
    assert calls == ["token-1", "token-2"]


def test_call_with_token_does_not_refresh_on_other_errors():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    tokens = source(cache, fetch, clock)

    def call(token: str) -> str:
        raise WeComApiError(60111, "userid not found", "user/get")

    with pytest.raises(WeComApiError):
        call_with_token(tokens, call)
    assert fetch.calls == 1


def test_a_failed_fetch_releases_the_lease_for_the_next_instance():
    cache, clock = MemoryTokenCache(), FakeClock(1000.0)

    def broken() -> tuple[str, int]:
        raise WeComApiError(-1, "busy", "gettoken")

    with pytest.raises(WeComApiError):
        source(cache, broken, clock).token()
    fetch = Fetcher()
    assert source(cache, fetch, clock).token() == "token-1"
    assert clock.now == 1000.0  # took over at once, no wait for the lease to expire


def test_an_abandoned_lease_is_taken_over_once_it_expires():
    cache, fetch, clock = MemoryTokenCache(), Fetcher(), FakeClock(1000.0)
    assert cache.lease("wwcorp#abc", "crashed-instance", now=clock.now, until=clock.now + 15, current=None)
    assert source(cache, fetch, clock, lease_seconds=15).token() == "token-1"
    assert 1015.0 <= clock.now < 1016.0
    assert fetch.calls == 1


def test_concurrent_instances_and_threads_fetch_exactly_once():
    cache, fetch = MemoryTokenCache(), Fetcher(delay=0.05)
    instances = [TokenSource("wwcorp#abc", fetch, cache, poll_seconds=0.01) for _ in range(6)]
    results: list[str] = []
    barrier = threading.Barrier(len(instances) * 4)

    def work(tokens: TokenSource) -> None:
        barrier.wait()
        results.append(tokens.token())

    threads = [threading.Thread(target=work, args=(tokens,)) for tokens in instances for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetch.calls == 1
    assert results == ["token-1"] * len(threads)
