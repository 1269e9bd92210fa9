"""The third-party suite flow: suite ticket → suite token → permanent code → corp token, and its failures."""
from __future__ import annotations

from tests.simulator.support import (AUTH_CODE, CORPID2, PERMANENT_CODE, SUITE_ID, SUITE_SECRET, SUITE_TICKET)


def _suite_token_answer(wecom, ticket=SUITE_TICKET, secret=SUITE_SECRET, suite_id=SUITE_ID):
    return wecom.post("service/get_suite_token",
                      {"suite_id": suite_id, "suite_secret": secret, "suite_ticket": ticket})


def test_full_suite_flow(wecom):
    suite_token = wecom.suite_token()
    perm = wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE}, suite_access_token=suite_token)
    assert perm["errcode"] == 0
    assert perm["permanent_code"] == PERMANENT_CODE
    assert perm["auth_corp_info"]["corpid"] == CORPID2 and perm["auth_corp_info"]["corp_name"] == "云桥合作伙伴"
    assert perm["auth_user_info"]["userid"] == "admin2"
    assert perm["state"] == "tnxabtf9g2"
    corp = wecom.post("service/get_corp_token", {"auth_corpid": CORPID2, "permanent_code": PERMANENT_CODE},
                      suite_access_token=suite_token)
    assert corp["errcode"] == 0 and corp["expires_in"] == 7200
    member = wecom.get("user/get", access_token=corp["access_token"], userid="admin2")
    assert member["name"] == "钱管理"


def test_suite_credentials_are_checked(wecom):
    assert _suite_token_answer(wecom, ticket="stale")["errcode"] == 40085
    assert _suite_token_answer(wecom, secret="wrong")["errcode"] == 40080
    assert _suite_token_answer(wecom, suite_id="wwnosuite")["errcode"] == 40083


def test_suite_ticket_expires_and_a_pushed_one_works(sim, wecom, sink):
    sim.control.advance_clock(1801)
    assert _suite_token_answer(wecom)["errcode"] == 40085
    result = sim.control.push("suite_ticket", sink.url)
    assert result["status"] == 200
    new_ticket = result["plaintext"].split("<SuiteTicket><![CDATA[")[1].split("]]>")[0]
    assert _suite_token_answer(wecom, ticket=new_ticket)["errcode"] == 0


def test_auth_code_is_single_use_and_permanent_code_checked(wecom):
    suite_token = wecom.suite_token()
    assert wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE},
                      suite_access_token=suite_token)["errcode"] == 0
    assert wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE},
                      suite_access_token=suite_token)["errcode"] == 40078
    assert wecom.post("service/get_corp_token", {"auth_corpid": CORPID2, "permanent_code": "wrong"},
                      suite_access_token=suite_token)["errcode"] == 40084


def test_permanent_code_is_useless_before_authorization(wecom):
    answer = wecom.post("service/get_corp_token", {"auth_corpid": CORPID2, "permanent_code": PERMANENT_CODE},
                        suite_access_token=wecom.suite_token())
    assert answer["errcode"] == 40084


def test_suite_token_errors(sim, wecom):
    suite_token = wecom.suite_token()
    assert wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE})["errcode"] == 41022
    assert wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE},
                      suite_access_token="bogus")["errcode"] == 40082
    sim.control.advance_clock(7201)
    assert wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE},
                      suite_access_token=suite_token)["errcode"] == 42009


def test_create_auth_then_cancel_auth(sim, wecom, sink):
    pushed = sim.control.push("create_auth", sink.url, corpid=CORPID2, state="tn0000001")
    assert pushed["status"] == 200 and sink.requests[-1]["body"].startswith("<xml><ToUserName><![CDATA[" + SUITE_ID)
    code = pushed["plaintext"].split("<AuthCode><![CDATA[")[1].split("]]>")[0]
    suite_token = wecom.suite_token()
    perm = wecom.post("service/v2/get_permanent_code", {"auth_code": code}, suite_access_token=suite_token)
    assert perm["errcode"] == 0 and perm["state"] == "tn0000001"
    grant = {"auth_corpid": CORPID2, "permanent_code": perm["permanent_code"]}
    corp_token = wecom.post("service/get_corp_token", grant, suite_access_token=suite_token)["access_token"]
    assert wecom.get("user/get", access_token=corp_token, userid="admin2")["errcode"] == 0
    sim.control.push("cancel_auth", sink.url, corpid=CORPID2)
    assert wecom.get("user/get", access_token=corp_token, userid="admin2")["errcode"] == 40001
    assert wecom.post("service/get_corp_token", grant, suite_access_token=suite_token)["errcode"] == 40084



def test_get_auth_info_reads_the_corps_current_name_and_refuses_a_wrong_permanent_code(sim, wecom):
    suite_token = wecom.suite_token()
    wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE}, suite_access_token=suite_token)
    sim.control.rename_corp(CORPID2, "改名后", "改名后有限公司")
    info = wecom.post("service/get_auth_info", {"auth_corpid": CORPID2, "permanent_code": PERMANENT_CODE},
                      suite_access_token=suite_token)
    assert info["errcode"] == 0
    assert (info["auth_corp_info"]["corp_name"], info["auth_corp_info"]["corp_full_name"]) == ("改名后", "改名后有限公司")
    assert "permanent_code" not in info and info["auth_info"]["agent"]
    wrong = wecom.post("service/get_auth_info", {"auth_corpid": CORPID2, "permanent_code": "nope"},
                       suite_access_token=suite_token)
    assert wrong["errcode"] == 40084
