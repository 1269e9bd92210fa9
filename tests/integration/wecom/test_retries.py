"""Transient failures injected in the simulator: the right number of attempts (counted in its call log), backoff
asked of the injected sleep, then success — or the typed error once the four attempts are spent."""
from __future__ import annotations

import pytest

from chalicelib.wecom.errors import WeComApiError, WeComUnavailable


def attempts(simulator, path: str) -> list[dict]:
    return simulator.control.calls(path=path)


@pytest.mark.parametrize(
    "fault",
    [
        {"errcode": 45009},
        {"errcode": 45033},
        {"errcode": -1},
        {"http_status": 502},
        {"drop": True},
        {"latency_ms": 900},  # the transport's read timeout is 0.4 s
    ],
    ids=["45009", "45033", "busy", "http502", "dropped", "timeout"],
)
def test_transient_failures_are_retried_until_success(wecom, simulator, sleeps, fault):
    wecom.get_member("zhangsan")  # token fetched, connection pooled
    simulator.control.reset_calls()
    simulator.control.set_fault("user/get", times=3, **fault)
    assert wecom.get_member("lisi")["name"] == "李四"
    calls = attempts(simulator, "user/get")
    assert len(calls) == 4
    assert [c["fault"] is not None for c in calls] == [True, True, True, False]
    assert len(sleeps.seconds) == 3
    assert all(0 <= s <= 5.0 for s in sleeps.seconds)


def test_a_transient_errcode_that_outlasts_the_retries_is_raised_with_its_code(wecom, simulator, sleeps):
    simulator.control.set_fault("user/get", errcode=45009)
    with pytest.raises(WeComApiError) as caught:
        wecom.get_member("zhangsan")
    assert caught.value.errcode == 45009 and caught.value.transient
    assert len(attempts(simulator, "user/get")) == 4
    assert len(sleeps.seconds) == 3


@pytest.mark.parametrize("fault", [{"http_status": 502}, {"drop": True}, {"latency_ms": 900}],
                         ids=["http502", "dropped", "timeout"])
def test_an_unreachable_wecom_raises_unavailable_after_four_attempts(wecom, simulator, fault):
    wecom.get_member("zhangsan")
    simulator.control.reset_calls()
    simulator.control.set_fault("user/get", **fault)
    with pytest.raises(WeComUnavailable) as caught:
        wecom.get_member("lisi")
    assert caught.value.attempts == 4
    assert caught.value.path == "user/get"
    assert "access_token" not in str(caught.value)
    assert len(attempts(simulator, "user/get")) == 4


def test_gettoken_itself_is_retried(wecom, simulator):
    simulator.control.set_fault("gettoken", http_status=503, times=2)
    assert wecom.get_member("zhangsan")["userid"] == "zhangsan"
    assert [c["fault"] for c in attempts(simulator, "gettoken")] == ["http_status", "http_status", None]


def test_a_send_retried_after_a_timeout_is_delivered_once(wecom, simulator):
    """The first attempt reaches WeCom (the simulator handles it, then stalls past our read timeout) and the retry
    is the identical request with the duplicate check on, which WeCom accepts without delivering it again."""
    simulator.control.set_fault("message/send", latency_ms=900, times=1)
    wecom.send_message(["zhangsan"], text="请审批：王五的账号申请")
    bodies = [c["body"] for c in attempts(simulator, "message/send")]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert bodies[0]["enable_duplicate_check"] == 1
    messages = simulator.control.messages(touser="zhangsan")
    assert [(m["delivered"], m["duplicate"]) for m in messages] == [(["zhangsan"], False), ([], True)]
