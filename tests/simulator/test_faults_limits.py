"""Fault injection, rate limits and the call log."""
from __future__ import annotations

import time

import pytest
import requests

from tests.simulator.support import CORPID, CORPID2, EXTERNAL_SECRET


def test_latency_fault_delays_the_answer(sim, wecom):
    token = wecom.token()
    sim.control.set_fault("user/get", latency_ms=300)
    started = time.monotonic()
    answer = wecom.get("user/get", access_token=token, userid="lisi")
    assert time.monotonic() - started >= 0.3
    assert answer["errcode"] == 0
    assert sim.control.calls(path="user/get")[-1]["fault"] == "latency"


def test_http_status_fault(sim, wecom):
    token = wecom.token()
    sim.control.set_fault("/cgi-bin/user/get", http_status=502)
    resp = wecom.http.get(f"{sim.base_url}/cgi-bin/user/get", params={"access_token": token, "userid": "lisi"})
    assert resp.status_code == 502
    assert sim.control.calls(path="user/get")[-1]["http_status"] == 502


def test_next_n_calls_fail_then_recover(sim, wecom):
    token = wecom.token()
    sim.control.set_fault("user/get", errcode=-1, times=2)
    codes = [wecom.get("user/get", access_token=token, userid="lisi")["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    assert sim.control.faults() == []


def test_dropped_connection(sim, wecom):
    token = wecom.token()
    sim.control.set_fault("user/get", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim.base_url}/cgi-bin/user/get", params={"access_token": token, "userid": "lisi"}, timeout=5)
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 0
    assert [c["fault"] for c in sim.control.calls(path="user/get")] == ["drop", None]


def test_wildcard_fault_and_clear(sim, wecom):
    sim.control.set_fault("*", errcode=-1)
    assert wecom.get("gettoken", corpid=CORPID, corpsecret="x")["errcode"] == -1
    sim.control.clear_faults("*")
    assert wecom.get("gettoken", corpid=CORPID, corpsecret="x")["errcode"] == 40001


def test_rate_limit_answers_45009_and_blocks_for_the_window(sim, wecom):
    token = wecom.token()
    sim.control.set_rate_limit(3, corpid=CORPID, path="user/get")
    codes = [wecom.get("user/get", access_token=token, userid="lisi")["errcode"] for _ in range(4)]
    assert codes == [0, 0, 0, 45009]
    assert wecom.post("user/list_id", {}, access_token=token)["errcode"] == 0  # other API unaffected
    sim.control.advance_clock(30)
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 45009  # still blocked
    sim.control.advance_clock(31)
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 0
    assert len(sim.control.calls(path="user/get", errcode=45009)) == 2


def test_rate_limit_is_per_corp(sim, wecom):
    sim.control.set_rate_limit(1, path="gettoken")
    assert wecom.get("gettoken", corpid=CORPID, corpsecret=EXTERNAL_SECRET)["errcode"] == 0
    assert wecom.get("gettoken", corpid=CORPID, corpsecret=EXTERNAL_SECRET)["errcode"] == 45009
    assert wecom.get("gettoken", corpid=CORPID2, corpsecret="x")["errcode"] == 40001  # counted separately


def test_default_limit_is_wecoms(sim):
    assert sim.control.settings()["rate_limit_per_minute"] == 10000
    assert sim.control.set_rate_limit(5)["block_seconds"] == 60
    sim.control.clear_rate_limits()


def test_call_log_records_and_filters(sim, wecom):
    token = wecom.token()
    wecom.get("user/get", access_token=token, userid="lisi")
    wecom.get("user/get", access_token=token, userid="ghost")
    wecom.post("user/list_id", {"limit": 2}, access_token=token)
    calls = sim.control.calls(path="user/get")
    assert [c["query"]["userid"] for c in calls] == ["lisi", "ghost"]
    assert [c["errcode"] for c in calls] == [0, 60111]
    assert all(c["corpid"] == CORPID and c["method"] == "GET" for c in calls)
    assert sim.control.calls(path="/cgi-bin/user/list_id")[0]["body"] == {"limit": 2}
    assert [c["path"] for c in sim.control.calls()] == [
        "/cgi-bin/gettoken", "/cgi-bin/user/get", "/cgi-bin/user/get", "/cgi-bin/user/list_id"]
    sim.control.reset_calls()
    assert sim.control.calls() == []


def test_unknown_api_is_404(sim, wecom):
    resp = wecom.http.get(f"{sim.base_url}/cgi-bin/no/such/api")
    assert resp.status_code == 404
