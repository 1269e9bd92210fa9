"""The notifications queue against the emulator and the WeCom simulator: a queued text card reaches the members
through the tenant's app; WeCom failing backs off and retries; a refusal no retry can fix, or retries running out,
ends in the dead-letter queue with the reason. The consumer is driven by the event pump exactly as Lambda drives it.
"""
from __future__ import annotations

import pytest

from chalicelib.notifications import queueing
from chalicelib.core import config
from chalicelib.tenants import wecom_clients
from chalicelib.store import queues
from chalicelib.store.queues import NOTIFICATIONS
from chalicelib.wecom.ratelimit import RateLimiter

QUEUE = config.resource_name(NOTIFICATIONS.logical_name)
CARD = {"title": "外部账号开通申请待审批", "description": "张三 申请为外部联系人「王总」开通外部账号。",
        "url": "https://yq.test/admin/account-applications/x"}
ATTEMPTS_PER_DELIVERY = 4


@pytest.fixture(autouse=True)
def _fast_wecom(fast_wecom):
    fast_wecom(attempts=ATTEMPTS_PER_DELIVERY)


@pytest.fixture
def notification_queue(queue):
    """The notifications queue and its dead-letter queue, emptied."""
    return queue("notifications")


def sends(simulator, errcode: int | None = None) -> list[dict]:
    calls = simulator.control.calls(path="message/send")
    return [c for c in calls if errcode is None or c["errcode"] == errcode]


def test_a_queued_text_card_reaches_each_member_once_through_the_tenants_app(demo_tenant, simulator, pump,
                                                                              notification_queue):
    queueing.notify_members(demo_tenant.tenant_key, ["lisi", "zhangsan", "lisi"], **CARD)

    [queued] = notification_queue.messages()
    assert queued["body"]["touser"] == ["lisi", "zhangsan"]
    assert simulator.control.messages() == []  # queued, not sent: whoever notified did not wait for WeCom

    assert pump.drain(QUEUE) == 1
    [message] = simulator.control.messages(touser="lisi")
    assert message["msgtype"] == "textcard" and message["agentid"] == int(demo_tenant.agent_id)
    assert sorted(message["delivered"]) == ["lisi", "zhangsan"] and not message["duplicate"]
    assert message["body"]["textcard"] == {**CARD, "btntxt": "详情"}
    assert simulator.control.messages(touser="zhangsan") == [message]
    assert notification_queue.messages() == [] and notification_queue.messages(dlq=True) == []


def test_nobody_to_notify_queues_nothing(demo_tenant, notification_queue):
    queueing.notify_members(demo_tenant.tenant_key, [], **CARD)

    assert notification_queue.messages() == []


@pytest.mark.parametrize("fault", [
    {"errcode": -1},  # WeCom busy
    {"http_status": 502},  # a gateway error
    {"errcode": 45033},  # the concurrency limit
])
def test_wecom_failing_backs_off_and_retries_until_delivered(demo_tenant, simulator, pump, notification_queue,
                                                             backoffs, fault):
    simulator.control.set_fault("message/send", times=ATTEMPTS_PER_DELIVERY, **fault)  # every attempt of delivery 1
    queueing.notify_members(demo_tenant.tenant_key, ["wangwu"], **CARD)

    assert pump.deliver_once(QUEUE) == 1
    assert simulator.control.messages(touser="wangwu") == []
    assert len(backoffs) == 1 and backoffs[0] >= 1  # handed back, hidden for a jittered backoff
    [waiting] = notification_queue.messages()
    assert waiting["body"]["touser"] == ["wangwu"]

    assert pump.drain(QUEUE) == 1
    [message] = simulator.control.messages(touser="wangwu")
    assert message["delivered"] == ["wangwu"]
    assert len(sends(simulator, errcode=0)) == 1
    assert notification_queue.messages() == [] and notification_queue.messages(dlq=True) == []


def test_a_refusal_no_retry_can_fix_is_dead_lettered_at_once_with_its_reason(demo_tenant, simulator, pump,
                                                                            notification_queue, backoffs):
    queueing.notify_members(demo_tenant.tenant_key, ["ghost"], **CARD)  # WeCom: no valid recipient (81013)

    assert pump.drain(QUEUE) == 1

    assert [c["errcode"] for c in sends(simulator)] == [81013]  # one call: no retry
    assert backoffs == []
    assert notification_queue.messages() == []
    [dead] = notification_queue.messages(dlq=True)
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["reason"] == "wecom_refused"
    assert attributes["detail"].startswith("81013:")
    assert (attributes["sourceQueue"], attributes["receiveCount"]) == ("notifications", "1")
    assert dead["body"]["touser"] == ["ghost"]


def test_retries_running_out_end_in_the_dead_letter_queue_with_the_reason(demo_tenant, simulator, pump,
                                                                          notification_queue, backoffs):
    simulator.control.set_fault("message/send", errcode=-1)
    queueing.notify_members(demo_tenant.tenant_key, ["wangwu"], **CARD)

    pump.drain(QUEUE)

    deliveries = NOTIFICATIONS.max_receive_count
    assert len(sends(simulator, errcode=-1)) == deliveries * ATTEMPTS_PER_DELIVERY
    assert len(backoffs) == deliveries - 1
    # jittered between half and all of an exponential ceiling: 2, 4, 8, ... seconds
    assert all(max(1, 2**n // 2) <= seconds <= 2**n for n, seconds in enumerate(backoffs, start=1))
    assert notification_queue.messages() == []
    [dead] = notification_queue.messages(dlq=True)
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["reason"] == "retries_exhausted"
    assert attributes["receiveCount"] == str(deliveries)
    assert simulator.control.messages(touser="wangwu") == []


def test_a_spent_rate_limit_hands_the_message_back_instead_of_idling(demo_tenant, simulator, pump,
                                                                    notification_queue, backoffs, monkeypatch):
    class Spent:
        def take(self, key: str, count: int, limit: int, expires_at: float) -> int:
            return 0

    def no_idling(seconds: float) -> None:
        raise AssertionError(f"the consumer waited {seconds}s for rate-limit permits inside the Lambda")

    limiter = RateLimiter(Spent(), clock=lambda: 60 * 1000 + 15.0, sleep=no_idling)  # 45 s left in the window
    monkeypatch.setattr(wecom_clients, "rate_limiter", lambda: limiter)
    queueing.notify_members(demo_tenant.tenant_key, ["wangwu"], **CARD)

    assert pump.deliver_once(QUEUE) == 1

    assert sends(simulator) == []
    assert backoffs == [45]  # hidden until the next minute window, not the generic failure backoff
    assert len(notification_queue.messages()) == 1 and notification_queue.messages(dlq=True) == []


@pytest.mark.parametrize("body, reason", [
    ({"tenantKey": "tnnosuchone", "channel": "wecom_app", "touser": ["lisi"], "textcard": CARD}, "unknown_tenant"),
    ({"channel": "carrier_pigeon", "touser": ["lisi"]}, "unknown_channel"),
    ({"channel": "wecom_app", "textcard": CARD}, "malformed_message"),
])
def test_messages_that_can_never_succeed_are_dead_lettered_at_once(demo_tenant, simulator, pump,
                                                                   notification_queue, body, reason):
    queues.send(NOTIFICATIONS.logical_name, {"tenantKey": demo_tenant.tenant_key, **body})

    assert pump.drain(QUEUE) == 1

    assert sends(simulator) == []
    [dead] = notification_queue.messages(dlq=True)
    assert dead["MessageAttributes"]["reason"]["StringValue"] == reason
