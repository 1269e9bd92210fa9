"""Every WeComClient method against the simulator: the fields it returns and that pagination yields each item once."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from chalicelib.wecom.client import official_account_oauth
from chalicelib.wecom.errors import WeComApiError
from dev.wecom_sim.generate import generate
from tests.integration.wecom.conftest import AGENTID, DEMO_SCENARIO, token_kinds

DEMO = json.loads(DEMO_SCENARIO.read_text(encoding="utf-8"))["corps"][0]
BIG_FOLLOWED = "wmbigfollowed000000000000000001"


def followed_by(customer: dict, userid: str) -> bool:
    return any(f["userid"] == userid for f in customer["follow_users"])


@pytest.fixture
def large_corp(load_scenario, make_client):
    """700 members (650 with customers), 1,200 customers, one customer followed by 600 members, and a chain of
    2,300 corps of which some are still pending: enough for several pages of every paginated API."""
    scenario = generate(members=700, customers=1200, follow_users=650, chains=1, corps_per_chain=2300, seed=7)
    corp = scenario["corps"][0]
    followers = [m["userid"] for m in corp["members"] if m.get("follow_user")]
    corp["customers"].append(
        {"external_userid": BIG_FOLLOWED, "name": "大客户", "type": 2, "corp_name": "星河贸易",
         "follow_users": [{"userid": u, "createtime": 1700000000} for u in followers[:600]]}
    )
    load_scenario(scenario)
    secrets = tuple(s["secret"] for s in corp["secrets"])
    return corp, make_client(corpid=corp["corpid"], secrets=secrets)


def test_list_member_ids_follows_the_cursor_and_yields_each_member_once(wecom, simulator):
    ids = list(wecom.list_member_ids(page_size=2))
    assert ids == sorted(m["userid"] for m in DEMO["members"])
    calls = simulator.control.calls(path="user/list_id")
    dept_entries = sum(len(m["department"]) for m in DEMO["members"])  # one entry per member and department
    assert len(calls) == -(-dept_entries // 2)
    assert calls[0]["body"]["cursor"] == ""
    assert all(c["body"]["limit"] == 2 and c["errcode"] == 0 for c in calls)


def test_list_member_ids_in_a_large_corp(large_corp, simulator):
    corp, wecom = large_corp
    ids = list(wecom.list_member_ids(page_size=100))
    assert Counter(ids) == Counter(m["userid"] for m in corp["members"])
    assert len(simulator.control.calls(path="user/list_id")) >= 7


def test_get_member_returns_wecom_fields(wecom):
    member = wecom.get_member("wangwu")
    assert member["name"] == "王五"
    assert member["department"] == [2, 3]
    assert member["external_profile"]["external_corp_name"] == "云桥演示"
    assert "errcode" not in member and "errmsg" not in member


def test_get_member_of_an_unknown_userid_is_a_typed_error(wecom):
    with pytest.raises(WeComApiError) as caught:
        wecom.get_member("nobody")
    assert caught.value.errcode == 60111
    assert caught.value.path == "user/get"


def test_update_member_writes_the_external_profile(wecom, simulator):
    profile = wecom.get_member("lisi")["external_profile"]
    attrs = [a for a in profile["external_attr"] if a["name"] != "与我协作"]
    link = {"url": "https://yq.test/mobile/wechat/external/home?tenantKey=tnx", "title": "与我协作"}
    attrs.append({"type": 1, "name": "与我协作", "web": link})
    wecom.update_member("lisi", {"external_profile": {**profile, "external_attr": attrs}})
    stored = simulator.control.member("lisi")["external_profile"]["external_attr"]
    assert stored == attrs


def test_follow_users_are_the_members_with_customer_contact(wecom):
    followed = {f["userid"] for c in DEMO["customers"] for f in c["follow_users"]}
    flagged = {m["userid"] for m in DEMO["members"] if m.get("follow_user")}
    assert sorted(wecom.follow_users()) == sorted(followed | flagged)


def test_list_customers_of_a_member(wecom):
    assert sorted(wecom.list_customers("zhangsan")) == sorted(
        c["external_userid"] for c in DEMO["customers"] if followed_by(c, "zhangsan")
    )


def test_a_member_without_customers_has_an_empty_list_not_an_error(wecom, simulator):
    assert wecom.list_customers("sunqi") == []
    assert [c["errcode"] for c in simulator.control.calls(path="externalcontact/list")] == [84061]


def test_get_customer_returns_the_contact_and_its_follow_users(wecom):
    ext = next(c for c in DEMO["customers"] if len(c["follow_users"]) == 3)
    customer = wecom.get_customer(ext["external_userid"])
    assert customer["external_contact"]["external_userid"] == ext["external_userid"]
    assert customer["external_contact"]["name"] == ext["name"]
    assert sorted(f["userid"] for f in customer["follow_user"]) == sorted(f["userid"] for f in ext["follow_users"])


def test_get_customer_follows_the_follow_user_cursor(large_corp, simulator):
    _, wecom = large_corp
    customer = wecom.get_customer(BIG_FOLLOWED)
    userids = [f["userid"] for f in customer["follow_user"]]
    assert len(userids) == 600 and len(set(userids)) == 600
    calls = simulator.control.calls(path="externalcontact/get")
    assert len(calls) == 2  # WeCom pages follow users by 500
    assert calls[1]["query"]["cursor"]


def test_customers_by_users_chunks_userids_and_follows_every_cursor(large_corp, simulator):
    corp, wecom = large_corp
    expected = Counter((c["external_userid"], f["userid"]) for c in corp["customers"] for f in c["follow_users"])
    followers = wecom.follow_users()
    assert len(followers) > 100
    pairs = Counter(
        (item["external_contact"]["external_userid"], item["follow_info"]["userid"])
        for item in wecom.customers_by_users(followers)
    )
    assert pairs == expected
    assert max(pairs.values()) == 1
    calls = simulator.control.calls(path="externalcontact/batch/get_by_user")
    assert all(len(c["body"]["userid_list"]) <= 100 and c["body"]["limit"] == 100 for c in calls)
    assert all(c["errcode"] == 0 for c in calls)
    assert len({tuple(c["body"]["userid_list"]) for c in calls}) == -(-len(followers) // 100)
    assert len(calls) >= sum(expected.values()) // 100


def test_customers_by_users_returns_wecom_fields(wecom):
    items = list(wecom.customers_by_users(["wangwu"]))
    by_ext = {i["external_contact"]["external_userid"]: i for i in items}
    corp_customer = next(c for c in DEMO["customers"] if c.get("type") == 2 and followed_by(c, "wangwu"))
    item = by_ext[corp_customer["external_userid"]]
    assert item["external_contact"]["type"] == 2
    assert item["external_contact"]["corp_name"] == corp_customer["corp_name"]
    assert item["follow_info"]["userid"] == "wangwu"
    assert "tag_id" in item["follow_info"]


def test_chains_and_their_groups(wecom):
    assert wecom.chains() == [{"chain_id": c["chain_id"], "chain_name": c["chain_name"]} for c in DEMO["chains"]]
    groups = wecom.chain_groups("Chdemo0001")
    assert [(g["groupid"], g["group_name"], g["parentid"]) for g in groups] == [
        (g["groupid"], g["group_name"], g["parentid"]) for g in DEMO["chains"][0]["groups"]
    ]


def test_chain_corps_include_pending_ones_on_request(wecom):
    corps = list(wecom.chain_corps("Chdemo0001"))
    assert [c.get("corpid") or c["pending_corpid"] for c in corps] == [c["corpid"] for c in DEMO["chains"][0]["corps"]]
    pending = [c for c in corps if not c["is_joined"]]
    assert [(c["pending_corpid"], c["corp_name"]) for c in pending] == [("wwpend0001", "蓝鲸设备")]
    joined_only = list(wecom.chain_corps("Chdemo0001", need_pending=False))
    assert [c["corpid"] for c in joined_only] == ["wwdown0001", "wwdown0002", "wwdown0003"]


def test_chain_corps_page_through_a_large_chain(large_corp, simulator):
    corp, wecom = large_corp
    chain = corp["chains"][0]
    corps = list(wecom.chain_corps(chain["chain_id"]))
    keys = [c.get("corpid") or c["pending_corpid"] for c in corps]
    assert keys == [c["corpid"] for c in chain["corps"]]
    assert len(simulator.control.calls(path="corpgroup/corp/get_chain_corpinfo_list")) == 3
    joined = [c["corpid"] for c in wecom.chain_corps(chain["chain_id"], need_pending=False)]
    assert joined == [c["corpid"] for c in chain["corps"] if c["is_joined"]]
    assert 0 < len(joined) < len(keys)


def test_send_a_text_and_a_text_card(wecom, simulator):
    sent = wecom.send_message(["zhangsan", "lisi", "ghost"], text="请审批外部联系人账号")
    assert sent["invaliduser"] == ["ghost"]
    card = {"title": "账号申请", "description": "王五申请开通账号", "url": "https://yq.test/a/1",
            "btntxt": "详情"}
    wecom.send_message(["wangwu"], textcard=card)
    messages = simulator.control.messages()
    assert [m["delivered"] for m in messages] == [["zhangsan", "lisi"], ["wangwu"]]
    assert messages[0]["body"]["text"] == {"content": "请审批外部联系人账号"}
    assert messages[1]["body"]["textcard"] == card
    for call in simulator.control.calls(path="message/send"):
        assert call["body"]["agentid"] == AGENTID
        assert call["body"]["enable_duplicate_check"] == 1
        assert call["body"]["duplicate_check_interval"] == 1800


def test_send_message_needs_exactly_one_content(wecom):
    with pytest.raises(ValueError, match="exactly one of text or textcard"):
        wecom.send_message(["zhangsan"])
    with pytest.raises(ValueError, match="exactly one of text or textcard"):
        wecom.send_message(["zhangsan"], text="a", textcard={"title": "b"})


def test_oauth_user_tells_members_from_external_contacts(wecom, simulator):
    member_code = simulator.control.mint_oauth_code(userid="zhangsan")
    assert wecom.oauth_user(member_code) == {"userid": "zhangsan"}
    ext = DEMO["customers"][0]["external_userid"]
    outsider_code = simulator.control.mint_oauth_code(external_userid=ext, openid="oOutsider01")
    assert wecom.oauth_user(outsider_code) == {"openid": "oOutsider01", "external_userid": ext}
    with pytest.raises(WeComApiError) as caught:
        wecom.oauth_user(member_code)
    assert caught.value.errcode == 40029


def test_official_account_oauth_returns_the_openid_and_unionid(simulator, transport):
    answer = official_account_oauth("wxdemooa00000001", "demo-oa-secret-0001", "demo-oa-code-0001", transport)
    assert answer["openid"] == "oDemoOpenid0001"
    assert answer["unionid"] == "oz4Dq5demoUnion000000000001"
    with pytest.raises(WeComApiError) as caught:
        official_account_oauth("wxdemooa00000001", "demo-oa-secret-0001", "demo-oa-code-0001", transport)
    assert caught.value.errcode == 40163


def test_each_api_is_called_with_the_token_of_its_purpose(wecom, simulator):
    wecom.get_member("zhangsan")
    list(wecom.list_member_ids())
    wecom.follow_users()
    wecom.list_customers("zhangsan")
    wecom.chains()
    wecom.send_message(["zhangsan"], text="hi")
    kinds = token_kinds(simulator)
    used = {c["path"].removeprefix("/cgi-bin/"): kinds[c["query"]["access_token"]]
            for c in simulator.control.calls() if "access_token" in c["query"]}
    assert used == {
        "user/get": "contacts",
        "user/list_id": "contacts",
        "externalcontact/get_follow_user_list": "externalcontact",
        "externalcontact/list": "externalcontact",
        "corpgroup/corp/get_chain_list": "app",
        "message/send": "app",
    }
    assert not simulator.control.calls(errcode=48002)
