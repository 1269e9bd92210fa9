"""Tokens against the simulator and the shared DynamoDB cache: one fetch per refresh, one retry per rejected token."""
from __future__ import annotations

import threading
import time

import pytest

from chalicelib.wecom.errors import WeComApiError
from tests.integration.wecom.conftest import CONTACTS_SECRET, gettoken_calls


def errcodes(simulator, path: str) -> list[int]:
    return [c["errcode"] for c in simulator.control.calls(path=path)]


def test_the_first_call_fetches_a_token_and_the_next_calls_reuse_it(make_client, simulator):
    first_instance, second_instance = make_client(), make_client()
    for _ in range(3):
        first_instance.get_member("zhangsan")
        second_instance.get_member("lisi")
    assert len(gettoken_calls(simulator, CONTACTS_SECRET)) == 1
    assert errcodes(simulator, "user/get") == [0] * 6


def test_a_token_invalidated_mid_run_is_refreshed_once_and_the_call_retried_once(wecom, simulator):
    wecom.get_member("zhangsan")
    assert simulator.control.invalidate_tokens(corpid="wwdemo0001") >= 1
    assert wecom.get_member("lisi")["name"] == "李四"
    assert len(gettoken_calls(simulator, CONTACTS_SECRET)) == 2
    assert errcodes(simulator, "user/get") == [0, 40001, 0]


@pytest.mark.parametrize("expired_errcode", [42001, 40014])
def test_an_expired_token_is_refreshed_whichever_code_wecom_uses(wecom, simulator, expired_errcode):
    simulator.control.settings(expired_token_errcode=expired_errcode)
    wecom.get_member("zhangsan")
    simulator.control.advance_clock(7300)  # WeCom's clock says expired; the cache has not noticed
    assert wecom.get_member("lisi")["userid"] == "lisi"
    assert len(gettoken_calls(simulator, CONTACTS_SECRET)) == 2
    assert errcodes(simulator, "user/get") == [0, expired_errcode, 0]


def test_a_token_rejected_again_after_the_refresh_is_not_retried_forever(wecom, simulator):
    wecom.get_member("zhangsan")
    simulator.control.set_fault("user/get", errcode=40014, times=5)
    with pytest.raises(WeComApiError) as caught:
        wecom.get_member("lisi")
    assert caught.value.errcode == 40014
    assert errcodes(simulator, "user/get") == [0, 40014, 40014]
    assert len(gettoken_calls(simulator, CONTACTS_SECRET)) == 2


def test_a_wrong_secret_is_a_typed_error_not_a_refresh_loop(make_client, simulator):
    wecom = make_client(secrets=("wrong-secret", "wrong-secret", "wrong-secret"))
    with pytest.raises(WeComApiError) as caught:
        wecom.get_member("zhangsan")
    assert caught.value.errcode == 40001 and caught.value.path == "gettoken"
    assert len(gettoken_calls(simulator)) == 1
    assert "wrong-secret" not in str(caught.value)


class SharedClock:
    """Wall-clock time that the test can push forward for every instance at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def run_instances(clients, calls_per_thread: int, threads_per_instance: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(clients) * threads_per_instance)

    def work(wecom) -> None:
        barrier.wait()
        try:
            for n in range(calls_per_thread):
                wecom.get_member(("zhangsan", "lisi", "wangwu")[n % 3])
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients for _ in range(threads_per_instance)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_rotating_tokens_with_many_instances_one_fetch_per_refresh_and_no_rejections(make_client, simulator):
    """With token_mode rotate, every gettoken invalidates the previous token: a second fetch by any instance
    would show up as 40001s. Five instances of four threads share the cache through a first fetch and a refresh."""
    simulator.control.settings(token_mode="rotate")
    clock = SharedClock()
    instances = [make_client(clock=clock) for _ in range(5)]

    assert run_instances(instances, calls_per_thread=5, threads_per_instance=4) == []
    assert len(gettoken_calls(simulator, CONTACTS_SECRET)) == 1

    clock.offset = 7200 - 300 + 1  # past the shared refresh point, still valid for WeCom
    assert run_instances(instances, calls_per_thread=5, threads_per_instance=4) == []
    assert len(gettoken_calls(simulator, CONTACTS_SECRET)) == 2

    assert set(errcodes(simulator, "user/get")) == {0}
    assert len(errcodes(simulator, "user/get")) == 2 * 5 * 4 * 5
