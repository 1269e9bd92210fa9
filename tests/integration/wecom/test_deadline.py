"""WeCom calls end before the invocation does: retries, backoff and each attempt's timeouts fit in the time the Lambda
context says is left (less the margin the function keeps to answer), against the simulator's injected faults."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from chalicelib.core import config
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import WeComApiError, WeComUnavailable
from chalicelib.wecom.http import DEADLINE_MARGIN, RetryPolicy, Transport, deadline
from chalicelib.wecom.tokens import corp_token_source
from tests.integration.wecom.conftest import CONTACTS_SECRET, DEMO_CORP


class FakeClock:
    """Lambda's remaining time on a clock that moves only when the transport sleeps."""

    def __init__(self, timeout: float) -> None:
        self.now, self.timeout, self.slept = 0.0, timeout, []

    def remaining(self) -> float:
        return self.timeout - self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client_over(transport: Transport, token_cache) -> WeComClient:
    source = corp_token_source(DEMO_CORP, CONTACTS_SECRET, token_cache, transport)
    return WeComClient(DEMO_CORP, contacts=source, customers=source, app=source, transport=transport)


def test_retries_stop_when_the_next_backoff_would_outlast_the_invocation(simulator, token_cache):
    clock = FakeClock(timeout=6.0)
    transport = Transport(RetryPolicy(attempts=6, base_delay=1.0, max_delay=5.0), base_url=config.wecom_base_url(),
                          sleep=clock.sleep, rand=lambda: 1.0)
    wecom = client_over(transport, token_cache)
    wecom.get_member("zhangsan")  # the token, outside the deadline
    simulator.control.reset_calls()
    simulator.control.set_fault("user/get", errcode=-1)

    with deadline(clock.remaining), pytest.raises(WeComApiError) as caught:
        wecom.get_member("lisi")

    assert caught.value.errcode == -1
    # 5 s of budget (6 s left less the margin): waits of 1 s and 2 s fit, the third (4 s) would not.
    assert DEADLINE_MARGIN == 1.0 and clock.slept == [1.0, 2.0]
    assert len(simulator.control.calls(path="user/get")) == 3
    simulator.control.clear_faults()
    with pytest.raises(WeComUnavailable) as caught:  # unbounded outside `deadline`, but nothing left inside it
        with deadline(lambda: 1.2):
            wecom.get_member("lisi")
    assert "no time left" in caught.value.reason and caught.value.attempts == 0
    assert wecom.get_member("lisi")["name"] == "李四"


def test_a_slow_wecom_is_abandoned_when_the_invocation_runs_out_not_at_the_transports_own_timeout(simulator,
                                                                                              token_cache):
    transport = Transport(RetryPolicy(attempts=4, read_timeout=10.0), base_url=config.wecom_base_url(), sleep=lambda _s: None)
    wecom = client_over(transport, token_cache)
    wecom.get_member("zhangsan")
    simulator.control.reset_calls()
    simulator.control.set_fault("user/get", latency_ms=4000, times=1)  # answers, but after 4 s
    started = time.monotonic()

    with deadline(lambda: 2.5 - (time.monotonic() - started)), pytest.raises(WeComUnavailable) as caught:
        wecom.get_member("lisi")

    # One attempt, cut at the 1.5 s of budget instead of waiting the 4 s out; no time for another.
    assert len(simulator.control.calls(path="user/get")) == 1
    assert "no time left to retry" in caught.value.reason and caught.value.attempts == 1
    assert wecom.get_member("lisi")["name"] == "李四"  # the fault was used up: unbounded, the call succeeds


def test_every_invocation_is_bounded_by_its_lambda_context(simulator, token_cache):
    """The middleware app.py registers for every event type reads the Lambda context's remaining time."""
    from chalicelib.handlers.invocation import wecom_deadline

    clock = FakeClock(timeout=3.0)
    transport = Transport(RetryPolicy(attempts=6, base_delay=1.0, max_delay=5.0), base_url=config.wecom_base_url(),
                          sleep=clock.sleep, rand=lambda: 1.0)
    wecom = client_over(transport, token_cache)
    wecom.get_member("zhangsan")
    simulator.control.reset_calls()
    simulator.control.set_fault("user/get", http_status=502)
    sqs_event = SimpleNamespace(context=SimpleNamespace(get_remaining_time_in_millis=lambda: clock.remaining() * 1000))

    with pytest.raises(WeComUnavailable) as caught:
        wecom_deadline(sqs_event, lambda _event: wecom.get_member("lisi"))

    assert "no time left to retry" in caught.value.reason
    assert clock.slept == [1.0] and len(simulator.control.calls(path="user/get")) == 2
