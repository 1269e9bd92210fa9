"""Apps shared with downstream corps: list_app_share_info's pages, downstream tokens and what they may read."""
from __future__ import annotations

import pytest

from tests.simulator.support import AGENTID, APP_SECRET, CONTACTS_SECRET

SHARES = "corpgroup/corp/list_app_share_info"


def _all_shares(wecom, token, limit):
    seen, cursor, pages = [], "", 0
    while True:
        answer = wecom.post(SHARES, {"agentid": AGENTID, "business_type": 1, "limit": limit, "cursor": cursor},
                            access_token=token)
        assert answer["errcode"] == 0, answer
        assert answer["ending"] == (0 if answer["next_cursor"] else 1)
        seen += answer["corp_list"]
        pages += 1
        cursor = answer["next_cursor"]
        if not cursor:
            return seen, pages


def _downstream_token(wecom, corpid="wwdown0002"):
    answer = wecom.post("corpgroup/corp/gettoken", {"corpid": corpid, "business_type": 1, "agentid": AGENTID},
                        access_token=wecom.token(APP_SECRET))
    assert answer["errcode"] == 0, answer
    return answer["access_token"]


@pytest.mark.parametrize("limit, pages", [(1, 2), (2, 1), (100, 1)])
def test_shared_corps_page_each_corp_once(wecom, limit, pages):
    corps, counted = _all_shares(wecom, wecom.token(APP_SECRET), limit)
    assert corps == [{"corpid": "wwdown0001", "corp_name": "星河贸易", "agentid": 1000101},
                     {"corpid": "wwdown0002", "corp_name": "海川物流", "agentid": 1000102}]
    assert counted == pages


def test_shared_corps_follow_share_changes(sim, wecom):
    token = wecom.token(APP_SECRET)
    first = wecom.post(SHARES, {"agentid": AGENTID, "business_type": 1, "limit": 1}, access_token=token)
    sim.control.add_app_share({"corpid": "wwdown0004", "agentid": AGENTID, "downstream_agentid": 1000104})
    sim.control.remove_app_share("wwdown0001", AGENTID)
    rest = wecom.post(SHARES, {"agentid": AGENTID, "business_type": 1, "limit": 1, "cursor": first["next_cursor"]},
                      access_token=token)
    assert [c["corpid"] for c in first["corp_list"] + rest["corp_list"]] == ["wwdown0001", "wwdown0002"]
    again, _ = _all_shares(wecom, token, 10)
    assert [(c["corpid"], c["corp_name"]) for c in again] == [("wwdown0002", "海川物流"), ("wwdown0004", "南山商贸")]


def test_shared_corps_filter_and_business_types(wecom):
    token = wecom.token(APP_SECRET)
    one = wecom.post(SHARES, {"agentid": AGENTID, "business_type": 1, "corpid": "wwdown0002"}, access_token=token)
    assert [c["corpid"] for c in one["corp_list"]] == ["wwdown0002"] and one["ending"] == 1
    interconnect = wecom.post(SHARES, {"agentid": AGENTID, "business_type": 0}, access_token=token)
    assert interconnect["errcode"] == 0 and interconnect["corp_list"] == []


@pytest.mark.parametrize("body, errcode", [
    ({"business_type": 1}, 40056),
    ({"agentid": 1000099, "business_type": 1}, 40056),
    ({"agentid": AGENTID, "business_type": 2}, 40058),
    ({"agentid": AGENTID, "business_type": 1, "limit": 101}, 40058),
    ({"agentid": AGENTID, "business_type": 1, "limit": 0}, 40058),
    ({"agentid": AGENTID, "business_type": 1, "cursor": "garbage!"}, 50100),
])
def test_shared_corps_bad_input(wecom, body, errcode):
    assert wecom.post(SHARES, body, access_token=wecom.token(APP_SECRET))["errcode"] == errcode


def test_shared_corps_need_the_app_token(wecom):
    contacts = wecom.token(CONTACTS_SECRET)
    assert wecom.post(SHARES, {"agentid": AGENTID, "business_type": 1}, access_token=contacts)["errcode"] == 48002
    assert wecom.post(SHARES, {"agentid": AGENTID, "business_type": 1}, access_token="forged")["errcode"] == 40014


@pytest.mark.parametrize("body, errcode", [
    ({"business_type": 1, "agentid": AGENTID}, 41002),
    ({"corpid": "wwdown0002", "business_type": 0, "agentid": AGENTID}, 40058),
    ({"corpid": "wwdown0002", "business_type": 1}, 40056),
    ({"corpid": "wwnowhere", "business_type": 1, "agentid": AGENTID}, 40013),
    ({"corpid": "wwdown0003", "business_type": 1, "agentid": AGENTID}, 60011),
    ({"corpid": "wwpend0001", "business_type": 1, "agentid": AGENTID}, 40013),
])
def test_downstream_token_refusals(wecom, body, errcode):
    assert wecom.post("corpgroup/corp/gettoken", body, access_token=wecom.token(APP_SECRET))["errcode"] == errcode


def test_downstream_token_reads_the_visible_range_only(wecom):
    token = _downstream_token(wecom)
    listed = wecom.post("user/list_id", {"limit": 10}, access_token=token)
    assert listed["errcode"] == 0 and listed["dept_user"] == [{"userid": "zhoujingli", "department": 1}]
    member = wecom.get("user/get", userid="zhoujingli", access_token=token)
    assert (member["errcode"], member["name"], member["position"]) == (0, "周经理", "销售经理")
    assert wecom.get("user/get", userid="caiwu01", access_token=token)["errcode"] == 60011
    assert wecom.get("user/get", userid="nobody", access_token=token)["errcode"] == 60111


@pytest.mark.parametrize("call", [
    ("POST", "user/update", {"userid": "zhoujingli", "name": "x"}),
    ("POST", "user/getuserid", {"mobile": "13800000000"}),
    ("POST", "message/send", {"touser": "zhoujingli", "msgtype": "text", "text": {"content": "hi"}}),
    ("POST", "externalcontact/batch/get_by_user", {"userid_list": ["zhoujingli"]}),
    ("POST", SHARES, {"agentid": AGENTID, "business_type": 1}),
])
def test_downstream_token_is_read_only(wecom, call):
    method, api, body = call
    token = _downstream_token(wecom)
    assert wecom.post(api, body, access_token=token)["errcode"] == 48002


def test_downstream_members_change_and_pages_resume(sim, wecom):
    token = _downstream_token(wecom, "wwdown0001")
    sim.control.add_share_member("wwdown0001", AGENTID, {"userid": "aaron", "name": "艾伦", "department": [1, 2]})
    first = wecom.post("user/list_id", {"limit": 2}, access_token=token)
    rest = wecom.post("user/list_id", {"limit": 2, "cursor": first["next_cursor"]}, access_token=token)
    assert [(e["userid"], e["department"]) for e in first["dept_user"] + rest["dept_user"]] == [
        ("aaron", 1), ("aaron", 2), ("hejun", 1), ("linxiaoyu", 1)]
    assert rest["next_cursor"] == ""
    sim.control.remove_member("hejun", corpid="wwdown0001")
    assert wecom.get("user/get", userid="hejun", access_token=token)["errcode"] == 60111


def test_a_withdrawn_share_stops_its_tokens(sim, wecom):
    token = _downstream_token(wecom)
    sim.control.remove_app_share("wwdown0002", AGENTID)
    assert wecom.post("user/list_id", {}, access_token=token)["errcode"] == 60011
    again = wecom.post("corpgroup/corp/gettoken", {"corpid": "wwdown0002", "business_type": 1, "agentid": AGENTID},
                       access_token=wecom.token(APP_SECRET))
    assert again["errcode"] == 60011


def test_share_member_of_an_unknown_share_is_refused(sim):
    from dev.wecom_sim.harness import SimulatorControlError

    with pytest.raises(SimulatorControlError) as refused:
        sim.control.add_share_member("wwdown0003", AGENTID, {"userid": "x"})
    assert refused.value.status == 404
