"""The JS-SDK side of the simulator: the ticket APIs, the signature check, and the stand-in `ww`'s own endpoints
(what the page's script reaches with simple CORS requests), including their refusals."""
from __future__ import annotations

import hashlib
import json

import pytest
import requests

from dev.wecom_sim.harness import SimulatorControlError
from tests.simulator.support import AGENTID, APP_SECRET, CORPID

PAGE = "https://yq.test/directory/toolbar?tenantKey=t1"
CHEN = "wmYQdemoa9f7e97965d6cf799a529102"


def sign(ticket: str, nonce: str, timestamp: int, url: str) -> str:
    return hashlib.sha1(f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}".encode()).hexdigest()


@pytest.fixture
def tickets(sim, wecom) -> tuple[str, str]:
    token = wecom.token(APP_SECRET)
    corp = wecom.get("get_jsapi_ticket", access_token=token)
    agent = wecom.get("ticket/get", access_token=token, type="agent_config")
    assert corp["errcode"] == 0 and agent["errcode"] == 0 and corp["expires_in"] == 7200
    return corp["ticket"], agent["ticket"]


def stand_in(sim, path: str, body: dict) -> dict:
    reply = requests.post(f"{sim.base_url}/jssdk/{path}", data=json.dumps(body), timeout=10,
                          headers={"Content-Type": "text/plain", "Origin": "http://127.0.0.1:8000"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    return reply.json()


def register(sim, corp_ticket: str, agent_ticket: str, **overrides) -> dict:
    body = {"corpId": CORPID, "agentId": AGENTID, "url": PAGE,
            "config": {"timestamp": 1, "nonceStr": "n", "signature": sign(corp_ticket, "n", 1, PAGE)},
            "agentConfig": {"timestamp": 1, "nonceStr": "n", "signature": sign(agent_ticket, "n", 1, PAGE)}}
    return stand_in(sim, "register", {**body, **overrides})


def test_the_same_ticket_comes_back_while_valid_and_a_contacts_token_has_no_agent_ticket(sim, wecom, tickets):
    token = wecom.token(APP_SECRET)
    assert wecom.get("get_jsapi_ticket", access_token=token)["ticket"] == tickets[0]
    contacts = wecom.token()
    assert wecom.get("ticket/get", access_token=contacts, type="agent_config")["errcode"] == 48002
    assert wecom.get("get_jsapi_ticket", access_token="nope")["errcode"] == 40014


def test_the_stand_in_plays_the_chat_after_a_valid_registration_and_records_the_message(sim, tickets):
    sim.control.play_chat("single_chat_tools", external_userid=CHEN)
    session = register(sim, *tickets)
    assert (session["config"], session["agentConfig"]) == ("config:ok", "agentConfig:ok")
    call = lambda api, params=None: stand_in(sim, "call", {"session": session["session"], "api": api,  # noqa: E731
                                                          "params": params or {}})
    assert call("getContext") == {"errMsg": "getContext:ok", "entry": "single_chat_tools"}
    assert call("getCurExternalContact")["userId"] == CHEN
    assert "without context" in call("getCurExternalChat")["errMsg"]
    news = {"link": "https://yq.test/x", "title": "t", "desc": "d", "imgUrl": "https://yq.test/i.png"}
    assert call("sendChatMessage", {"msgtype": "news", "news": news})["errMsg"] == "sendChatMessage:ok"
    assert call("sendChatMessage", {"msgtype": "news", "news": {"title": "no link"}})["errMsg"].endswith("invalid news")
    logged = sim.control.calls(path="/jssdk/sendChatMessage")
    assert [c["errMsg"] for c in logged] == ["sendChatMessage:ok", "sendChatMessage:fail invalid news"]
    assert logged[0]["body"]["news"] == news and logged[0]["body"]["chat"]["external_userid"] == CHEN


def test_a_wrong_or_stale_signature_gives_no_permission(sim, tickets):
    sim.control.play_chat("single_chat_tools", external_userid=CHEN)
    forged = register(sim, *tickets, agentConfig={"timestamp": 1, "nonceStr": "n", "signature": "0" * 40})
    assert forged["config"] == "config:ok" and forged["agentConfig"].startswith("agentConfig:fail invalid signature")
    answer = stand_in(sim, "call", {"session": forged["session"], "api": "getContext"})
    assert answer == {"errMsg": "getContext:fail no permission"}
    other_page = register(sim, *tickets, url=PAGE + "&x=1")
    assert other_page["config"].startswith("config:fail")
    sim.control.advance_clock(7201)  # the tickets expired
    expired = register(sim, *tickets)
    assert "no live ticket" in expired["agentConfig"]
    assert [c["errMsg"] for c in sim.control.calls(path="/jssdk/register")] == ["register:fail"] * 3
    assert stand_in(sim, "call", {"session": "nope", "api": "getContext"})["errMsg"].endswith("no permission")


def test_outside_a_chat_nothing_can_be_sent_and_bad_chats_are_refused(sim, tickets):
    sim.control.play_chat("normal")
    session = register(sim, *tickets)
    answer = stand_in(sim, "call", {"session": session["session"], "api": "sendChatMessage",
                                    "params": {"msgtype": "text", "text": {"content": "hi"}}})
    assert answer["errMsg"] == "sendChatMessage:fail without context of external contact"
    with pytest.raises(SimulatorControlError) as caught:
        sim.control.play_chat("somewhere")
    assert caught.value.status == 400
    with pytest.raises(SimulatorControlError):
        sim.control.play_chat("group_chat_tools")  # no chat_id
    script = requests.get(f"{sim.base_url}/jssdk/ww.js", timeout=10)
    assert script.headers["Content-Type"].startswith("text/javascript") and "window.ww" in script.text
    assert requests.post(f"{sim.base_url}/jssdk/register", data="not json", timeout=10).status_code == 400


def test_groupchat_get_answers_the_group_or_wecom_s_errors(sim, wecom):
    sim.control.add_group_chat({"chat_id": "wrG1", "name": "群", "member_list": [
        {"userid": "zhangsan", "type": 1, "name": "张三"}, {"userid": CHEN, "type": 2, "name": "陈先生"}]})
    token = wecom.token("demo-externalcontact-secret-0001")
    answer = wecom.post("externalcontact/groupchat/get", {"chat_id": "wrG1", "need_name": 1}, access_token=token)
    assert answer["errcode"] == 0 and answer["group_chat"]["member_list"][1]["name"] == "陈先生"
    unnamed = wecom.post("externalcontact/groupchat/get", {"chat_id": "wrG1"}, access_token=token)
    assert "name" not in unnamed["group_chat"]["member_list"][1]
    assert wecom.post("externalcontact/groupchat/get", {"chat_id": "wrNo"}, access_token=token)["errcode"] == 40050
    assert wecom.post("externalcontact/groupchat/get", {}, access_token=token)["errcode"] == 40058
