"""The shared rate limit in the emulator's DynamoDB: never more than the limit per window across instances and
threads, one conditional write per block, and the WeCom calls it lets through counted by the simulator."""
from __future__ import annotations

import threading

import pytest

from chalicelib.store.wecom_state import DynamoPermitStore, WeComState
from chalicelib.wecom.errors import RateLimited
from chalicelib.wecom.ratelimit import RateLimiter
from tests.integration.wecom.conftest import WindowClock


@pytest.fixture
def counted_updates(monkeypatch):
    """Every UpdateItem on a rate counter, as (key, whether its condition held)."""
    updates: list[tuple[str, bool]] = []
    lock = threading.Lock()
    original = WeComState.update

    def update(self, actions, condition=None, **kwargs):
        try:
            result = original(self, actions, condition, **kwargs)
        except Exception:
            if self.pk.startswith("rate#"):
                with lock:
                    updates.append((self.pk, False))
            raise
        if self.pk.startswith("rate#"):
            with lock:
                updates.append((self.pk, True))
        return result

    monkeypatch.setattr(WeComState, "update", update)
    return updates


def test_instances_and_threads_never_exceed_the_limit_and_write_once_per_block(emulator, counted_updates):
    clock = WindowClock()
    store = DynamoPermitStore()
    instances = [RateLimiter(store, per_minute=300, block=25, clock=clock, sleep=clock.sleep) for _ in range(4)]
    granted = [0] * 12
    barrier = threading.Barrier(12)

    def work(slot: int, limiter: RateLimiter) -> None:
        barrier.wait()
        while True:
            try:
                limiter.acquire("wwratelimit01", "user/update", wait=False)
            except RateLimited:
                return
            granted[slot] += 1

    threads = [threading.Thread(target=work, args=(n, instances[n % 4])) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(granted) == 300
    window = int(clock.now // 60)
    assert WeComState.get(f"rate#wwratelimit01#user/update#{window}").used == 300
    assert [ok for _, ok in counted_updates].count(True) == 300 // 25
    assert [ok for _, ok in counted_updates].count(False) <= len(instances)


def test_the_tail_of_a_window_is_handed_out_in_a_smaller_block(emulator):
    clock = WindowClock()
    store = DynamoPermitStore()
    assert store.take("wwtail#user/get#1", 40, 100, clock.now) == 40
    assert store.take("wwtail#user/get#1", 40, 100, clock.now) == 40
    assert store.take("wwtail#user/get#1", 40, 100, clock.now) == 20
    assert store.take("wwtail#user/get#1", 40, 100, clock.now) == 0
    item = WeComState.get("rate#wwtail#user/get#1")
    assert item.used == 100
    assert item.ttl is not None


def test_the_client_lets_through_only_the_permitted_calls(make_client, simulator):
    clock = WindowClock()
    limiter = RateLimiter(DynamoPermitStore(), per_minute=5, block=2, clock=clock, sleep=clock.sleep)
    wecom = make_client(limiter=limiter, wait_for_permits=False)
    for _ in range(5):
        wecom.get_member("zhangsan")
    with pytest.raises(RateLimited) as caught:
        wecom.get_member("zhangsan")
    assert 0 < caught.value.retry_after <= 60
    assert len(simulator.control.calls(path="user/get")) == 5
    wecom.list_customers("zhangsan")  # another API has its own budget
    assert len(simulator.control.calls(path="externalcontact/list")) == 1


def test_a_blocking_client_waits_for_the_next_window(make_client, simulator):
    clock = WindowClock()
    start = clock.now
    limiter = RateLimiter(DynamoPermitStore(), per_minute=3, block=3, clock=clock, sleep=clock.sleep)
    wecom = make_client(limiter=limiter)
    for _ in range(4):
        wecom.get_member("zhangsan")
    assert len(simulator.control.calls(path="user/get")) == 4
    assert int(clock.now // 60) == int(start // 60) + 1


def test_retries_spend_permits_too(make_client, simulator):
    """WeCom counts every attempt against the corp's limit, so the client-side limit must count them as well."""
    clock = WindowClock()
    limiter = RateLimiter(DynamoPermitStore(), per_minute=3, block=1, clock=clock, sleep=clock.sleep)
    wecom = make_client(limiter=limiter, wait_for_permits=False)
    simulator.control.set_fault("user/get", errcode=-1, times=2)
    wecom.get_member("zhangsan")
    with pytest.raises(RateLimited):
        wecom.get_member("zhangsan")
    assert len(simulator.control.calls(path="user/get")) == 3
