"""Pushed callbacks decrypt with wechatpy (an independent WeCom peer) to WeCom-shaped XML, and URL verification."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.simulator.support import (AGENTID, CORPID, CORPID2, DEMO_PATH, SUITE_ID, InvalidCorpIdException,
                                     WeChatCrypto)

DEMO = json.loads(Path(DEMO_PATH).read_text(encoding="utf-8"))
CORP_CB = DEMO["corps"][0]["callback"]
SUITE_CB = DEMO["suites"][0]["callback"]
EXT = DEMO["corps"][0]["customers"][0]["external_userid"]


def _decrypt(sink, token, key, receiveid) -> tuple[dict, dict]:
    """(envelope fields, inner fields) of the last callback the sink received."""
    body = sink.requests[-1]["body"]
    q = sink.last_query()
    plain = WeChatCrypto(token, key, receiveid).decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
    envelope = {e.tag: e.text for e in ET.fromstring(body)}
    return envelope, {e.tag: e.text for e in ET.fromstring(plain)}


def test_add_external_contact_self_built(sim, sink):
    result = sim.control.push("add_external_contact", sink.url, userid="zhangsan", external_userid=EXT,
                              state="yq_invite")
    assert result["status"] == 200 and result["body"] == "success"
    assert sink.requests[-1]["method"] == "POST"
    envelope, inner = _decrypt(sink, CORP_CB["token"], CORP_CB["encoding_aes_key"], CORPID)
    assert envelope["ToUserName"] == CORPID and envelope["AgentID"] == str(AGENTID)
    assert inner["ToUserName"] == CORPID and inner["FromUserName"] == "sys"
    assert inner["MsgType"] == "event" and inner["Event"] == "change_external_contact"
    assert inner["ChangeType"] == "add_external_contact"
    assert inner["UserID"] == "zhangsan" and inner["ExternalUserID"] == EXT
    assert inner["State"] == "yq_invite" and inner["WelcomeCode"]
    assert abs(int(inner["CreateTime"]) - sim.control.now()) < 5


def test_self_built_callback_does_not_decrypt_with_the_wrong_receiveid(sim, sink):
    sim.control.push("del_follow_user", sink.url, userid="zhangsan", external_userid=EXT)
    with pytest.raises(InvalidCorpIdException) as wrong:  # the message decrypts; its receiveid is not the suite's
        _decrypt(sink, CORP_CB["token"], CORP_CB["encoding_aes_key"], SUITE_ID)
    assert wrong.value.errcode == -40005
    _, inner = _decrypt(sink, CORP_CB["token"], CORP_CB["encoding_aes_key"], CORPID)
    assert inner["ChangeType"] == "del_follow_user"


def test_del_external_contact_carries_source(sim, sink):
    sim.control.push("del_external_contact", sink.url, userid="lisi", external_userid=EXT, source="DELETE_BY_TRANSFER")
    _, inner = _decrypt(sink, CORP_CB["token"], CORP_CB["encoding_aes_key"], CORPID)
    assert inner["Source"] == "DELETE_BY_TRANSFER" and inner["UserID"] == "lisi"


def test_create_user_reads_the_stored_member(sim, sink):
    sim.control.add_member({"userid": "newbie", "name": "新同事", "department": [2, 3], "position": "实习生"})
    sim.control.push("create_user", sink.url, userid="newbie")
    _, inner = _decrypt(sink, CORP_CB["token"], CORP_CB["encoding_aes_key"], CORPID)
    assert inner["Event"] == "change_contact" and inner["ChangeType"] == "create_user"
    assert inner["UserID"] == "newbie" and inner["Name"] == "新同事" and inner["Department"] == "2,3"


def test_change_chain(sim, sink):
    sim.control.push("update_chain", sink.url, chain_id="Chdemo0001")
    _, inner = _decrypt(sink, CORP_CB["token"], CORP_CB["encoding_aes_key"], CORPID)
    assert inner["Event"] == "change_chain" and inner["ChangeType"] == "update_chain"
    assert inner["ChainId"] == "Chdemo0001"


def test_suite_ticket_instruction_uses_suite_id(sim, sink):
    result = sim.control.push("suite_ticket", sink.url)
    assert result["receiveid"] == SUITE_ID
    envelope, inner = _decrypt(sink, SUITE_CB["token"], SUITE_CB["encoding_aes_key"], SUITE_ID)
    assert envelope["ToUserName"] == SUITE_ID and envelope["AgentID"] is None
    assert inner["SuiteId"] == SUITE_ID and inner["InfoType"] == "suite_ticket"
    assert inner["SuiteTicket"] and inner["TimeStamp"].isdigit()
    with pytest.raises(InvalidCorpIdException) as wrong:
        _decrypt(sink, SUITE_CB["token"], SUITE_CB["encoding_aes_key"], CORPID2)
    assert wrong.value.errcode == -40005


def test_suite_form_of_a_customer_event(sim, sink):
    sim.control.push("add_external_contact", sink.url, via="suite", corpid=CORPID2, userid="admin2",
                     external_userid="wmSomeone")
    _, inner = _decrypt(sink, SUITE_CB["token"], SUITE_CB["encoding_aes_key"], SUITE_ID)
    assert inner["SuiteId"] == SUITE_ID and inner["AuthCorpId"] == CORPID2
    assert inner["InfoType"] == "change_external_contact" and inner["ChangeType"] == "add_external_contact"
    assert "ToUserName" not in inner and "Event" not in inner


def test_suite_data_callback_uses_the_auth_corpid(sim, sink):
    sim.control.push("edit_external_contact", sink.url, via="suite_data", corpid=CORPID2, userid="admin2",
                     external_userid="wmSomeone")
    _, inner = _decrypt(sink, SUITE_CB["token"], SUITE_CB["encoding_aes_key"], CORPID2)
    assert inner["ToUserName"] == CORPID2 and inner["Event"] == "change_external_contact"


def test_cancel_auth_instruction(sim, sink):
    sim.control.push("cancel_auth", sink.url, corpid=CORPID2)
    _, inner = _decrypt(sink, SUITE_CB["token"], SUITE_CB["encoding_aes_key"], SUITE_ID)
    assert inner == {"SuiteId": SUITE_ID, "InfoType": "cancel_auth", "TimeStamp": inner["TimeStamp"],
                     "AuthCorpId": CORPID2}


def test_push_reports_the_target_answer_and_unreachable_targets(sim, sink):
    sink.post_answer = "not-success"
    assert sim.control.push("suite_ticket", sink.url)["body"] == "not-success"
    unreachable = sim.control.push("suite_ticket", "http://127.0.0.1:9/callback")
    assert unreachable["status"] is None and unreachable["error"]


def test_unknown_kind_is_a_400(sim, sink):
    from dev.wecom_sim.harness import SimulatorControlError

    with pytest.raises(SimulatorControlError) as info:
        sim.control.push("no_such_event", sink.url)
    assert info.value.status == 400


def test_url_verification(sim, sink):
    sink.crypto = WeChatCrypto(CORP_CB["token"], CORP_CB["encoding_aes_key"], CORPID)
    result = sim.control.verify_url(sink.url)
    assert result["status"] == 200 and result["ok"] is True and result["body"] == result["echostr_plain"]
    assert "echostr=" in result["url"] and "msg_signature=" in result["url"]
    sink.echo_suffix = "\n"  # a trailing newline is a failed verification for WeCom
    assert sim.control.verify_url(sink.url)["ok"] is False


def test_suite_url_verification(sim, sink):
    sink.crypto = WeChatCrypto(SUITE_CB["token"], SUITE_CB["encoding_aes_key"], SUITE_ID)
    assert sim.control.verify_url(sink.url, suite_id=SUITE_ID)["ok"] is True
