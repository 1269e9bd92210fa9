"""The block-based limiter over an in-memory permit store and a fake clock."""
from __future__ import annotations

import pytest

from chalicelib.wecom.errors import RateLimited
from chalicelib.wecom.ratelimit import RateLimiter
from tests.unit.wecom.fakes import FakeClock, MemoryPermitStore

WINDOW_START = 1_700_000_040.0  # a minute boundary


def limiter(store, clock, **options) -> RateLimiter:
    return RateLimiter(store, clock=clock, sleep=clock.sleep, **options)


def test_permits_are_reserved_in_blocks_and_spent_locally():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START)
    limits = limiter(store, clock, per_minute=100, block=20)
    for _ in range(45):
        limits.acquire("wwcorp", "user/get")
    assert [granted for _, granted in store.takes] == [20, 20, 20]


def test_paths_and_corps_are_counted_apart():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START)
    limits = limiter(store, clock, per_minute=100, block=20)
    limits.acquire("wwcorp", "user/get")
    limits.acquire("wwcorp", "user/update")
    limits.acquire("wwother", "user/get")
    window = int(WINDOW_START // 60)
    keys = [f"wwcorp#user/get#{window}", f"wwcorp#user/update#{window}", f"wwother#user/get#{window}"]
    assert sorted(store.used) == keys


def test_never_more_than_the_limit_across_instances_and_the_tail_of_a_window_is_used():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START + 5)
    instances = [limiter(store, clock, per_minute=50, block=20) for _ in range(3)]
    granted = 0
    for round_ in range(90):
        try:
            instances[round_ % 3].acquire("wwcorp", "user/get", wait=False)
            granted += 1
        except RateLimited:
            pass
    assert granted == 50
    assert sum(store.used.values()) == 50


def test_non_blocking_mode_says_when_the_next_window_starts():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START + 45)
    limits = limiter(store, clock, per_minute=2, block=10)
    limits.acquire("wwcorp", "message/send", wait=False)
    limits.acquire("wwcorp", "message/send", wait=False)
    with pytest.raises(RateLimited) as caught:
        limits.acquire("wwcorp", "message/send", wait=False)
    assert caught.value.retry_after == pytest.approx(15, abs=0.1)
    assert caught.value.corpid == "wwcorp" and caught.value.path == "message/send"


def test_a_spent_window_is_not_asked_again_until_the_next_one():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START)
    limits = limiter(store, clock, per_minute=1, block=10)
    limits.acquire("wwcorp", "user/get")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limits.acquire("wwcorp", "user/get", wait=False)
    assert [granted for _, granted in store.takes] == [1, 0]


def test_blocking_mode_waits_for_the_next_window():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START + 50)
    limits = limiter(store, clock, per_minute=3, block=3)
    for _ in range(3):
        limits.acquire("wwcorp", "user/get")
    assert clock.now == WINDOW_START + 50
    limits.acquire("wwcorp", "user/get")
    assert WINDOW_START + 60 <= clock.now < WINDOW_START + 61
    assert len(store.used) == 2


def test_unspent_permits_of_a_past_window_are_not_carried_over():
    store, clock = MemoryPermitStore(), FakeClock(WINDOW_START)
    limits = limiter(store, clock, per_minute=100, block=20)
    limits.acquire("wwcorp", "user/get")
    clock.now += 60
    limits.acquire("wwcorp", "user/get")
    assert [granted for _, granted in store.takes] == [20, 20]
    assert len(store.used) == 2
