"""Customers: follow users, list, get, and batch/get_by_user paging and limits."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.simulator.support import (AUTH_CODE, CORPID2, DEMO_PATH, EXTERNAL_SECRET, PERMANENT_CODE, WeComHTTP)

DEMO = json.loads(Path(DEMO_PATH).read_text(encoding="utf-8"))["corps"][0]
MEMBERS = [m["userid"] for m in DEMO["members"]]
RELATIONS = Counter((c["external_userid"], f["userid"]) for c in DEMO["customers"] for f in c["follow_users"])


def _batch_all(wecom: WeComHTTP, token: str, userids: list[str], limit: int) -> list[tuple[str, str]]:
    seen, cursor = [], ""
    while True:
        answer = wecom.post("externalcontact/batch/get_by_user",
                            {"userid_list": userids, "cursor": cursor, "limit": limit}, access_token=token)
        assert answer["errcode"] == 0, answer
        assert 0 < len(answer["external_contact_list"]) <= limit or not seen and not cursor
        for item in answer["external_contact_list"]:
            assert item["follow_info"]["userid"] in userids
            seen.append((item["external_contact"]["external_userid"], item["follow_info"]["userid"]))
        cursor = answer["next_cursor"]
        if not cursor:
            return seen


def test_follow_user_list(wecom):
    answer = wecom.get("externalcontact/get_follow_user_list", access_token=wecom.token(EXTERNAL_SECRET))
    assert answer["errcode"] == 0
    assert set(answer["follow_user"]) == {"zhangsan", "lisi", "wangwu", "zhaoliu", "zhengshi"}


def test_list_customers_of_a_member(wecom):
    token = wecom.token(EXTERNAL_SECRET)
    answer = wecom.get("externalcontact/list", access_token=token, userid="wangwu")
    assert answer["errcode"] == 0
    assert sorted(answer["external_userid"]) == sorted(e for e, u in RELATIONS if u == "wangwu")
    assert wecom.get("externalcontact/list", access_token=token, userid="sunqi")["errcode"] == 84061
    assert wecom.get("externalcontact/list", access_token=token, userid="ghost")["errcode"] == 60111


def test_get_customer_fields(wecom):
    token = wecom.token(EXTERNAL_SECRET)
    by_name = {c["name"]: c["external_userid"] for c in DEMO["customers"]}
    wecom_user = wecom.get("externalcontact/get", access_token=token, external_userid=by_name["周经理"])
    assert wecom_user["errcode"] == 0
    contact = wecom_user["external_contact"]
    assert contact["type"] == 2 and contact["corp_name"] == "星河贸易"
    assert contact["corp_full_name"] == "深圳星河贸易有限公司" and "unionid" not in contact
    assert [f["userid"] for f in wecom_user["follow_user"]] == ["zhangsan", "wangwu", "zhaoliu"]
    assert wecom_user["follow_user"][0]["tags"][0]["tag_name"] == "重要"
    assert wecom_user["next_cursor"] == ""
    wechat_user = wecom.get("externalcontact/get", access_token=token, external_userid=by_name["陈先生"])
    assert wechat_user["external_contact"]["type"] == 1
    assert wechat_user["external_contact"]["unionid"] == "oz4Dq5demoUnion000000000001"
    assert "openid" not in wechat_user["external_contact"]  # scenario-only
    assert wecom.get("externalcontact/get", access_token=token, external_userid="wmNope")["errcode"] == 40096


def test_customer_who_is_also_a_member_shares_the_unionid(sim, wecom):
    token = wecom.token(EXTERNAL_SECRET)
    by_name = {c["name"]: c["external_userid"] for c in DEMO["customers"]}
    contact = wecom.get("externalcontact/get", access_token=token, external_userid=by_name["孙七（个人微信）"])
    member_unionid = next(m["unionid"] for m in DEMO["members"] if m["userid"] == "sunqi")
    assert contact["external_contact"]["unionid"] == member_unionid


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=1, max_value=100),
       userids=st.lists(st.sampled_from(MEMBERS + ["ghost"]), min_size=1, max_size=12))
def test_batch_get_by_user_covers_every_relation_once(wecom, limit, userids):
    seen = _batch_all(wecom, wecom.token(EXTERNAL_SECRET), userids, limit)
    expected = Counter({rel: 1 for rel in RELATIONS if rel[1] in userids})
    assert Counter(seen) == expected


def test_batch_get_by_user_item_shape(wecom):
    answer = wecom.post("externalcontact/batch/get_by_user", {"userid_list": ["zhangsan"], "limit": 1},
                        access_token=wecom.token(EXTERNAL_SECRET))
    item = answer["external_contact_list"][0]
    assert set(item) == {"external_contact", "follow_info"}
    assert {"external_userid", "name", "type"} <= set(item["external_contact"])
    assert {"userid", "remark", "createtime", "tag_id", "add_way", "oper_userid"} <= set(item["follow_info"])
    assert answer["next_cursor"]


def test_batch_get_by_user_limits(sim, wecom):
    token = wecom.token(EXTERNAL_SECRET)
    too_many = [f"u{i}" for i in range(101)]
    assert wecom.post("externalcontact/batch/get_by_user", {"userid_list": too_many},
                      access_token=token)["errcode"] == 40058
    assert wecom.post("externalcontact/batch/get_by_user", {"userid_list": []}, access_token=token)["errcode"] == 40058
    assert wecom.post("externalcontact/batch/get_by_user", {"userid_list": ["lisi"], "cursor": "x"},
                      access_token=token)["errcode"] == 50100
    for n in range(130):
        sim.control.add_customer({"external_userid": f"wmBulk{n:04d}", "name": f"客户{n}",
                                  "follow_users": [{"userid": "zhouba"}]})
    big = wecom.post("externalcontact/batch/get_by_user", {"userid_list": ["zhouba"], "limit": 1000},
                     access_token=token)
    assert len(big["external_contact_list"]) == 100  # over the maximum is clamped, not refused
    default = wecom.post("externalcontact/batch/get_by_user", {"userid_list": ["zhouba"]}, access_token=token)
    assert len(default["external_contact_list"]) == 50


def test_removed_relation_disappears(sim, wecom):
    token = wecom.token(EXTERNAL_SECRET)
    ext = next(e for e, u in RELATIONS if u == "wangwu")
    sim.control.remove_customer(ext, userid="wangwu")
    answer = wecom.get("externalcontact/list", access_token=token, userid="wangwu")
    assert ext not in answer["external_userid"]
    assert "wangwu" not in [f["userid"] for f in sim.control.customer(ext)["follow_user"]]


def test_suite_tokens_never_see_unionid(wecom):
    suite_token = wecom.suite_token()
    assert wecom.post("service/v2/get_permanent_code", {"auth_code": AUTH_CODE},
                      suite_access_token=suite_token)["errcode"] == 0
    corp_token = wecom.post("service/get_corp_token", {"auth_corpid": CORPID2, "permanent_code": PERMANENT_CODE},
                            suite_access_token=suite_token)["access_token"]
    ext = wecom.get("externalcontact/list", access_token=corp_token, userid="admin2")["external_userid"][0]
    contact = wecom.get("externalcontact/get", access_token=corp_token, external_userid=ext)["external_contact"]
    assert contact["type"] == 1 and "unionid" not in contact


def test_cursor_of_another_api_or_forged_is_refused(wecom):
    token = wecom.token(EXTERNAL_SECRET)
    contacts = wecom.token()
    list_cursor = wecom.post("user/list_id", {"limit": 1}, access_token=contacts)["next_cursor"]
    body = {"userid_list": ["zhangsan"], "cursor": list_cursor}
    assert wecom.post("externalcontact/batch/get_by_user", body, access_token=token)["errcode"] == 50100
    forged = "eyJhIjoiYmF0Y2gifQ"  # base64 of {"a":"batch"}: right API, no position
    body["cursor"] = forged
    assert wecom.post("externalcontact/batch/get_by_user", body, access_token=token)["errcode"] == 50100
