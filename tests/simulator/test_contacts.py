"""Members: list_id paging, user/get, and user/update's external_profile rules."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.simulator.support import DEMO_PATH, WeComHTTP


def _all_dept_users(wecom: WeComHTTP, token: str, limit: int) -> tuple[list[tuple[str, int]], int]:
    seen, cursor, pages = [], "", 0
    while True:
        answer = wecom.post("user/list_id", {"cursor": cursor, "limit": limit}, access_token=token)
        assert answer["errcode"] == 0, answer
        assert len(answer["dept_user"]) <= limit
        seen += [(d["userid"], d["department"]) for d in answer["dept_user"]]
        pages += 1
        cursor = answer["next_cursor"]
        if not cursor:
            return seen, pages


def _expected_pairs() -> Counter:
    corp = json.loads(Path(DEMO_PATH).read_text(encoding="utf-8"))["corps"][0]
    return Counter((m["userid"], d) for m in corp["members"] for d in m["department"])


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 10000])
def test_list_id_covers_each_member_department_once(wecom, limit):
    seen, pages = _all_dept_users(wecom, wecom.token(), limit)
    assert Counter(seen) == _expected_pairs()
    assert max(Counter(seen).values()) == 1
    assert pages == -(-len(seen) // limit)  # no empty trailing page
    assert ("wangwu", 2) in seen and ("wangwu", 3) in seen  # one entry per department


def test_list_id_survives_changes_between_pages(sim, wecom):
    token = wecom.token()
    first = wecom.post("user/list_id", {"limit": 3}, access_token=token)
    got = [(d["userid"], d["department"]) for d in first["dept_user"]]
    sim.control.remove_member("zhouba")
    sim.control.add_member({"userid": "zzz_new", "name": "新人", "department": [2]})
    cursor = first["next_cursor"]
    while cursor:
        answer = wecom.post("user/list_id", {"cursor": cursor, "limit": 3}, access_token=token)
        got += [(d["userid"], d["department"]) for d in answer["dept_user"]]
        cursor = answer["next_cursor"]
    assert len(got) == len(set(got))
    assert ("zzz_new", 2) in got and ("zhouba", 3) not in got
    assert ("zhengshi", 1) in got and ("wujiu", 3) in got


def test_list_id_validates_limit_and_cursor(wecom):
    token = wecom.token()
    assert wecom.post("user/list_id", {"limit": 0}, access_token=token)["errcode"] == 40058
    assert wecom.post("user/list_id", {"limit": 10001}, access_token=token)["errcode"] == 40058
    assert wecom.post("user/list_id", {"cursor": "garbage!"}, access_token=token)["errcode"] == 50100


def test_user_get_fields_and_unknown_userid(wecom):
    token = wecom.token()
    member = wecom.get("user/get", access_token=token, userid="wangwu")
    assert member["errcode"] == 0
    assert member["userid"] == "wangwu" and member["name"] == "王五"
    assert member["department"] == [2, 3] and member["main_department"] == 2
    assert member["external_profile"]["external_attr"][0]["name"] == "官网"
    assert "unionid" not in wecom.get("user/get", access_token=token, userid="sunqi")  # scenario-only
    assert wecom.get("user/get", access_token=token, userid="nobody")["errcode"] == 60111
    assert wecom.get("user/get", access_token=token)["errcode"] == 41009


def test_user_update_keeps_configured_attrs_and_drops_unknown_names(sim, wecom):
    token = wecom.token()
    link = {"type": 1, "name": "与我协作",
            "web": {"url": "https://yq.example/mobile/wechat/external/home?tenantKey=tnxabtf9g2", "title": "与我协作"}}
    attrs = [{"type": 0, "name": "工号", "text": {"value": "S002"}}, link,
             {"type": 0, "name": "未配置的属性", "text": {"value": "x"}}]
    answer = wecom.post("user/update", {"userid": "lisi", "external_profile": {"external_attr": attrs}},
                        access_token=token)
    assert answer == {"errcode": 0, "errmsg": "updated"}
    profile = wecom.get("user/get", access_token=token, userid="lisi")["external_profile"]
    assert profile["external_attr"] == attrs[:2]
    assert profile["external_corp_name"] == "云桥演示"  # omitted, so kept
    assert sim.control.member("lisi")["external_profile"] == profile


@pytest.mark.parametrize("web, errcode", [
    ({"url": "https://yq.example/home", "title": "这是一个超过十二个字的标题啊"}, 40058),
    ({"url": "ftp://yq.example/home", "title": "与我协作"}, 40094),
    ({"url": "yq.example/home", "title": "与我协作"}, 40094),
])
def test_user_update_rejects_bad_web_attr(sim, wecom, web, errcode):
    token = wecom.token()
    before = sim.control.member("lisi")
    body = {"userid": "lisi", "external_profile": {"external_attr": [{"type": 1, "name": "与我协作", "web": web}]}}
    assert wecom.post("user/update", body, access_token=token)["errcode"] == errcode
    assert sim.control.member("lisi") == before


def test_user_update_title_of_exactly_twelve_chars_is_fine(wecom):
    token = wecom.token()
    attr = {"type": 1, "name": "与我协作", "web": {"url": "http://yq.example", "title": "一二三四五六七八九十一二"}}
    body = {"userid": "lisi", "external_profile": {"external_attr": [attr]}}
    assert wecom.post("user/update", body, access_token=token)["errcode"] == 0
    assert wecom.get("user/get", access_token=token, userid="lisi")["external_profile"]["external_attr"] == [attr]


def test_user_update_unknown_member_and_bad_json(wecom, sim):
    token = wecom.token()
    assert wecom.post("user/update", {"userid": "ghost"}, access_token=token)["errcode"] == 60111
    raw = wecom.http.post(f"{sim.base_url}/cgi-bin/user/update", params={"access_token": token},
                          data=b"{not json", timeout=10).json()
    assert raw["errcode"] == 47001


def test_user_update_of_departments_keeps_member_consistent(wecom):
    token = wecom.token()
    assert wecom.post("user/update", {"userid": "zhangsan", "department": [3, 1]}, access_token=token)["errcode"] == 0
    member = wecom.get("user/get", access_token=token, userid="zhangsan")
    assert member["department"] == [3, 1] and member["main_department"] == 3
    assert len(member["order"]) == len(member["is_leader_in_dept"]) == 2
    seen = [(d["userid"], d["department"]) for d in wecom.post("user/list_id", {}, access_token=token)["dept_user"]]
    assert ("zhangsan", 3) in seen and ("zhangsan", 1) in seen and ("zhangsan", 2) not in seen
