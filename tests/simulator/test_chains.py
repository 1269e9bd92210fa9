"""Upstream/downstream (上下游): chains, groups, the paged corp list and downstream tokens."""
from __future__ import annotations

import pytest

from tests.simulator.support import APP_SECRET

CHAIN = "Chdemo0001"
JOINED = {"wwdown0001", "wwdown0002", "wwdown0003"}


def _all_corps(wecom, token, limit, **filters):
    seen, cursor = [], ""
    while True:
        answer = wecom.post("corpgroup/corp/get_chain_corpinfo_list",
                            {"chain_id": CHAIN, "cursor": cursor, "limit": limit, **filters}, access_token=token)
        assert answer["errcode"] == 0, answer
        assert answer["has_more"] == bool(answer["next_cursor"])
        seen += answer["group_corps"]
        cursor = answer["next_cursor"]
        if not cursor:
            return seen


def test_chain_list_and_groups(wecom):
    token = wecom.token(APP_SECRET)
    chains = wecom.get("corpgroup/corp/get_chain_list", access_token=token)
    assert chains["chains"] == [{"chain_id": "Chdemo0001", "chain_name": "云桥供应链"},
                                {"chain_id": "Chdemo0002", "chain_name": "云桥经销网络"}]
    groups = wecom.post("corpgroup/corp/get_chain_group", {"chain_id": CHAIN}, access_token=token)["groups"]
    assert {(g["groupid"], g["group_name"], g["parentid"]) for g in groups} == {
        (1, "供应商", 0), (2, "华南供应商", 1), (3, "经销商", 0)}
    assert wecom.post("corpgroup/corp/get_chain_group", {"chain_id": "Chnope"}, access_token=token)["errcode"] == 40058


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_corp_list_pages_each_corp_once(wecom, limit):
    token = wecom.token(APP_SECRET)
    joined = _all_corps(wecom, token, limit)
    assert sorted(c["corpid"] for c in joined) == sorted(JOINED)
    everyone = _all_corps(wecom, token, limit, need_pending=True)
    assert len(everyone) == 4
    pending = [c for c in everyone if not c["is_joined"]]
    assert pending == [{"groupid": 3, "corp_name": "蓝鲸设备", "custom_id": "DIS-002", "invite_userid": "zhengshi",
                        "is_joined": 0, "pending_corpid": "wwpend0001"}]


def test_corp_list_group_filter(wecom):
    token = wecom.token(APP_SECRET)
    only_group_1 = _all_corps(wecom, token, 10, groupid=1)
    assert [c["corpid"] for c in only_group_1] == ["wwdown0002"]
    with_children = _all_corps(wecom, token, 10, groupid=1, fetch_child=1)
    assert {c["corpid"] for c in with_children} == {"wwdown0001", "wwdown0002"}


def test_corp_list_follows_chain_changes(sim, wecom):
    token = wecom.token(APP_SECRET)
    first = wecom.post("corpgroup/corp/get_chain_corpinfo_list", {"chain_id": CHAIN, "limit": 1}, access_token=token)
    sim.control.add_chain_corp(CHAIN, {"corpid": "wwdown0009", "corp_name": "新下游", "groupid": 3})
    sim.control.remove_chain_corp(CHAIN, "wwdown0003")
    rest = []
    cursor = first["next_cursor"]
    while cursor:
        answer = wecom.post("corpgroup/corp/get_chain_corpinfo_list", {"chain_id": CHAIN, "cursor": cursor, "limit": 1},
                            access_token=token)
        rest += answer["group_corps"]
        cursor = answer["next_cursor"]
    ids = [c["corpid"] for c in first["group_corps"] + rest]
    assert ids == ["wwdown0001", "wwdown0002", "wwdown0009"]


def test_downstream_token(wecom):
    """Only a corp the app is shared with gets a token (the rest of the family: test_app_shares.py)."""
    token = wecom.token(APP_SECRET)
    answer = wecom.post("corpgroup/corp/gettoken", {"corpid": "wwdown0002", "business_type": 1, "agentid": 1000002},
                        access_token=token)
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200
    downstream = answer["access_token"]
    assert wecom.get("externalcontact/get_follow_user_list", access_token=downstream)["errcode"] == 48002
    not_shared = wecom.post("corpgroup/corp/gettoken", {"corpid": "wwdown0003", "business_type": 1,
                                                        "agentid": 1000002}, access_token=token)
    assert not_shared["errcode"] == 60011
