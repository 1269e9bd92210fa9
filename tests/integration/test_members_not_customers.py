"""Members are not customers: every signal WeCom gives that a customer is one of the team's own people, through the
real entry points — the sync's queue, WeCom's callbacks over HTTP, the member's own WeChat binding over HTTP —
against the simulator and the emulator. Each signal is paired with a real customer who only looks alike (a similar
corp name, a mobile that is nobody's) and must still be synced.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from chalicelib.core import config
from chalicelib.store import contacts, members, sync_runs
from chalicelib.store import tenants as tenant_store
from chalicelib.sync import checkpoint as sync_checkpoint, triggers as sync_triggers
from tests.integration.oauth_support import LOCAL_BASE
from tests.integration.sharing_support import OA_APPID, connect_official_account

SYNC, CALLBACKS = config.resource_name("sync"), config.resource_name("callbacks")
SUNQI_WECHAT = "wmYQdemo4d3a21d8c684c09c19b93be9"  # 孙七's personal WeChat, a customer of zhangsan (demo scenario)
SUNQI_UNIONID = "oz4Dq5demoUnionSunqi0000000X"
SUNQI_MOBILE = "13800000007"  # 孙七's mobile in WeCom; zhangsan's remark on his WeChat carries it
CHEN = "wmYQdemoa9f7e97965d6cf799a529102"  # 陈先生, a real customer (WeChat user) of zhangsan and lisi
DEMO_CORP = "wwdemo0001"
AUTHORISING_CORP, SUITE_ID = "wwdemo0002", "wwsuitedemo0001"


def contact(tenant, external_userid):
    return contacts.get(tenant.tenant_key, contacts.customer_contact_id(external_userid))


@pytest.fixture
def run_sync(pump):
    """Queue a run for the tenant, let the pump deliver it; returns the run as the admin reads it."""

    def run(tenant) -> dict:
        run_id = sync_triggers.queue_run(tenant, "admin")
        pump.drain(SYNC)
        record = sync_runs.get_run(tenant.tenant_key, run_id)
        assert record is not None and record.status in (sync_runs.SUCCEEDED, sync_runs.PARTIAL)
        return sync_checkpoint.describe_run(record)

    return run


@pytest.fixture
def push(simulator, app_server, callbacks_queue):
    def push_event(tenant, kind: str, **ids) -> None:
        answer = simulator.control.push(kind, f"{app_server}/wecom/callback/{tenant.tenant_key}", **ids)
        assert (answer["status"], answer["body"]) == (200, "success"), answer

    return push_event


def wechat_customer(external_userid: str, name: str, unionid: str, remark_mobiles=()) -> dict:
    return {"external_userid": external_userid, "name": name, "type": 1, "unionid": unionid,
            "follow_users": [{"userid": "zhangsan", "createtime": 1790000000, "add_way": 1,
                              "remark_mobiles": list(remark_mobiles)}]}


def wecom_customer(external_userid: str, name: str, corp_name: str, corp_full_name: str) -> dict:
    return {"external_userid": external_userid, "name": name, "type": 2, "corp_name": corp_name,
            "corp_full_name": corp_full_name,
            "follow_users": [{"userid": "wangwu", "createtime": 1790000000, "add_way": 1}]}


# --- the tenant's own corp: recorded for self-built and suite tenants ------------------------------------------------
def test_a_self_built_tenant_records_the_corp_names_it_was_onboarded_with(demo_tenant):
    stored = tenant_store.get(demo_tenant.tenant_key)
    assert (stored.corp_id, stored.corp_name, stored.corp_full_name) == (DEMO_CORP, "云桥演示科技", "云桥演示科技有限公司")


def nameless(tenant):
    """The tenant as one onboarded before the corp's names were kept."""
    from chalicelib.store.tenants import Tenant

    tenant.update(actions=[Tenant.corp_name.remove(), Tenant.corp_full_name.remove()])
    tenant_store._recent.pop(tenant.tenant_key, None)
    return tenant


def test_a_self_built_tenant_without_names_learns_the_short_name_on_its_next_sync(demo_tenant, simulator, run_sync):
    """WeCom has no API naming a self-built app's corp: the next sync reads a member's external profile."""
    tenant = nameless(demo_tenant)
    assert (tenant.corp_name, tenant.corp_full_name) == (None, None)
    simulator.control.add_customer(wecom_customer("wmownsame000000000000000000001", "同事甲", "云桥演示", "云桥演示"))
    simulator.control.add_customer(wecom_customer("wmownlike000000000000000000001", "客户乙", "云桥演示贸易",
                                                  "杭州云桥演示贸易有限公司"))
    run = run_sync(tenant)
    assert tenant_store.get(tenant.tenant_key).corp_name == "云桥演示"  # zhangsan's external_corp_name
    assert contact(tenant, "wmownsame000000000000000000001") is None
    assert contact(tenant, "wmownlike000000000000000000001").wecom_customer is True  # a look-alike corp: a customer
    assert run["counts"]["customers"]["skipped_as_member"] >= 2  # 同事甲, and 孙七 by his remark mobile
    assert not [error for error in run["errors"] if error["code"] == "corp_name_unknown"]


def test_while_the_corp_name_is_unknown_no_wecom_user_is_synced_and_the_run_says_why(demo_tenant, simulator,
                                                                                        run_sync):
    tenant = nameless(demo_tenant)
    for userid in ("zhangsan", "lisi", "wangwu", "zhaoliu", "zhengshi"):
        member = simulator.control.member(userid)
        member.pop("external_profile", None)
        simulator.control.add_member({**member, "follow_user": True})
    run = run_sync(tenant)
    assert tenant_store.get(tenant.tenant_key).corp_name is None
    assert [error["code"] for error in run["errors"]] == ["corp_name_unknown"]
    assert contact(tenant, "wmYQdemocb7524d792327e4c443d619d") is None  # 周经理, a WeCom user: cannot be told apart
    assert contact(tenant, CHEN).wecom_customer is True  # WeChat users are synced as ever


def test_a_suite_tenant_records_its_corp_from_the_authorisation(simulator, app_server, demo_tenant, pump):
    suite_url = f"{app_server}/wecom/suite/{SUITE_ID}/callback"
    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(CALLBACKS)
    tenant = tenant_store.find_by_corp(AUTHORISING_CORP)
    assert (tenant.corp_id, tenant.corp_name, tenant.corp_full_name) == (
        AUTHORISING_CORP, "云桥合作伙伴", "云桥合作伙伴（杭州）有限公司")


def test_a_suite_tenant_without_names_gets_them_when_it_authorises_again(simulator, app_server, demo_tenant, pump):
    suite_url = f"{app_server}/wecom/suite/{SUITE_ID}/callback"
    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(CALLBACKS)
    before = nameless(tenant_store.find_by_corp(AUTHORISING_CORP))
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(CALLBACKS)
    after = tenant_store.get(before.tenant_key)
    assert (after.corp_name, after.corp_full_name) == ("云桥合作伙伴", "云桥合作伙伴（杭州）有限公司")


def test_a_suite_tenant_without_names_gets_them_on_its_next_sync(simulator, app_server, demo_tenant, pump, run_sync):
    suite_url = f"{app_server}/wecom/suite/{SUITE_ID}/callback"
    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(CALLBACKS)
    pump.drain(SYNC)
    tenant = nameless(tenant_store.find_by_corp(AUTHORISING_CORP))
    run_sync(tenant)
    assert tenant_store.get(tenant.tenant_key).corp_full_name == "云桥合作伙伴（杭州）有限公司"


# --- WeCom users of the own corp: the sync and the callbacks ---------------------------------------------------------
def test_a_wecom_user_of_the_own_corp_is_skipped_and_a_look_alike_corp_is_not(demo_tenant, simulator, push, pump):
    simulator.control.add_customer(wecom_customer("wmownfull000000000000000000001", "同事丙", "云桥演示科技",
                                                  "云桥演示科技有限公司"))
    simulator.control.add_customer(wecom_customer("wmownlike000000000000000000002", "客户丁", "云桥演示科技园",
                                                  "云桥演示科技园有限公司"))
    push(demo_tenant, "add_external_contact", userid="wangwu", external_userid="wmownfull000000000000000000001")
    push(demo_tenant, "add_external_contact", userid="wangwu", external_userid="wmownlike000000000000000000002")
    assert pump.drain(CALLBACKS) == 2
    assert contact(demo_tenant, "wmownfull000000000000000000001") is None
    assert contact(demo_tenant, "wmownlike000000000000000000002").org_name == "云桥演示科技园有限公司"


def test_a_callback_for_a_wecom_user_learns_the_corp_names_first(demo_tenant, simulator, push, pump):
    tenant = nameless(demo_tenant)
    push(tenant, "add_external_contact", userid="wangwu", external_userid="wmYQdemocb7524d792327e4c443d619d")
    assert pump.drain(CALLBACKS) == 1
    assert tenant_store.get(tenant.tenant_key).corp_name == "云桥演示"
    assert contact(tenant, "wmYQdemocb7524d792327e4c443d619d").org_name == "深圳星河贸易有限公司"


# --- remark mobiles ----------------------------------------------------------------------------------------------------
def test_the_sync_skips_a_wechat_user_whose_remark_mobile_is_a_members(demo_tenant, simulator, run_sync):
    """孙七's personal WeChat: zhangsan's remark carries 孙七's mobile (the demo, `make run`). A look-alike — a
    customer whose remark mobile is nobody's in the corp — is synced."""
    simulator.control.add_customer(wechat_customer("wmmobilelike0000000000000000001", "孙七的朋友", "ozlike0001",
                                                   remark_mobiles=["13800000008"]))
    run = run_sync(demo_tenant)
    assert contact(demo_tenant, SUNQI_WECHAT) is None
    assert contact(demo_tenant, "wmmobilelike0000000000000000001").wecom_customer is True
    assert run["counts"]["customers"]["skipped_as_member"] == 1
    assert members.get(demo_tenant.tenant_key, "sunqi") is None or not members.get(
        demo_tenant.tenant_key, "sunqi").unionid  # found by the mobile, not by a unionid


def test_a_callback_skips_a_customer_by_remark_mobile_and_sets_aside_one_synced_before(demo_tenant, simulator, push,
                                                                                        pump):
    friend = "wmmobilelater000000000000000001"
    simulator.control.add_customer(wechat_customer(friend, "周先生", "ozlater0001"))
    push(demo_tenant, "add_external_contact", userid="zhangsan", external_userid=friend)
    pump.drain(CALLBACKS)
    assert contact(demo_tenant, friend).wecom_customer is True
    # zhangsan notes the mobile: it is 孙七's, so 周先生 is 孙七's other WeChat account
    simulator.control.add_customer(wechat_customer(friend, "周先生", "ozlater0001", remark_mobiles=[SUNQI_MOBILE]))
    push(demo_tenant, "edit_external_contact", userid="zhangsan", external_userid=friend)
    pump.drain(CALLBACKS)
    set_aside = contact(demo_tenant, friend)
    assert (set_aside.wecom_customer, set_aside.member_match, set_aside.follow_users.as_dict()) == (
        False, "remark_mobile", {})
    assert set_aside.inactive_at is not None
    assert list(contacts.customers_followed_by(demo_tenant.tenant_key, "zhangsan")).count(friend) == 0


def test_a_remark_mobile_on_one_followers_entry_keeps_the_customer_aside_in_every_run(demo_tenant, simulator,
                                                                                       run_sync):
    """Another member follows 孙七's WeChat without the remark: the sync sees that member's page with no signal, so
    it looks the customer up whole; once the remark is gone, the customer is a customer again."""
    sunqi = simulator.control.customer(SUNQI_WECHAT)
    record = {**sunqi["external_contact"], "follow_users": [
        {**follow, "remark_mobiles": follow.get("remark_mobiles") or []} for follow in sunqi["follow_user"]]}
    record["follow_users"].append({"userid": "lisi", "createtime": 1790000000, "add_way": 1})
    simulator.control.add_customer(record)
    first = run_sync(demo_tenant)
    assert contact(demo_tenant, SUNQI_WECHAT) is None and first["counts"]["customers"]["skipped_as_member"] == 1
    second = run_sync(demo_tenant)
    assert contact(demo_tenant, SUNQI_WECHAT) is None and second["counts"]["customers"]["skipped_as_member"] == 1

    record["follow_users"] = [{**follow, "remark_mobiles": []} for follow in record["follow_users"]]
    simulator.control.add_customer(record)
    run_sync(demo_tenant)
    assert set(contact(demo_tenant, SUNQI_WECHAT).follow_users.as_dict()) == {"zhangsan", "lisi"}


# --- unionid: the member binds their own WeChat --------------------------------------------------------------------------
def bind_wechat(client, simulator, headers, tenant, unionid: str, openid: str):
    """The member's WeChat binding as the workspace makes it: the authorize URL (state + cookie), then the code."""
    redirect = f"{tenant.settings.public_base_url or LOCAL_BASE}/workspace/"
    reply = client.http.get(f"/api/auth/wechat-binding/authorize-url?redirectUri={quote(redirect, safe='')}",
                            headers=headers)
    assert reply.status_code == 200, reply.body
    begun = json.loads(reply.body)
    assert parse_qs(urlsplit(begun["url"]).query)["scope"] == ["snsapi_userinfo"]
    cookie = reply.headers["Set-Cookie"].split(";", 1)[0]
    code = simulator.control.mint_oauth_code(appid=OA_APPID, openid=openid, unionid=unionid)
    return client.http.post("/api/auth/wechat-binding",
                            headers={**headers, "Content-Type": "application/json", "Cookie": cookie},
                            body=json.dumps({"code": code, "state": begun["state"]}))


def test_a_member_who_binds_their_wechat_is_set_aside_and_no_longer_synced(client, simulator, demo_tenant, sign_in,
                                                                           push, pump, run_sync):
    connect_official_account(demo_tenant)
    friend = "wmunionlater000000000000000001"
    simulator.control.add_customer(wechat_customer(friend, "吴先生", "ozwujiu0000000000001"))
    push(demo_tenant, "add_external_contact", userid="zhangsan", external_userid=friend)
    pump.drain(CALLBACKS)
    assert contact(demo_tenant, friend).wecom_customer is True

    headers = sign_in(demo_tenant, "wujiu")  # 吴九 is that WeChat account's owner
    reply = bind_wechat(client, simulator, headers, demo_tenant, "ozwujiu0000000000001", "oWujiuOpenid01")
    assert reply.status_code == 201, reply.body
    assert json.loads(reply.body) == {"wechatBound": True, "customerSetAside": contacts.customer_contact_id(friend)}
    assert members.get(demo_tenant.tenant_key, "wujiu").unionid == "ozwujiu0000000000001"
    aside = contact(demo_tenant, friend)
    assert (aside.wecom_customer, aside.member_match) == (False, "unionid")

    push(demo_tenant, "edit_external_contact", userid="zhangsan", external_userid=friend)
    pump.drain(CALLBACKS)
    run = run_sync(demo_tenant)
    assert contact(demo_tenant, friend).wecom_customer is False
    assert run["counts"]["customers"]["skipped_as_member"] == 2  # 吴九 by unionid, 孙七 by his remark mobile
    assert contact(demo_tenant, CHEN).wecom_customer is True  # a customer with a unionid of their own


def test_the_wechat_binding_refuses_what_it_must(client, simulator, demo_tenant, sign_in):
    headers = sign_in(demo_tenant, "wujiu")
    redirect = quote(f"{demo_tenant.settings.public_base_url or LOCAL_BASE}/workspace/", safe="")
    not_configured = client.http.get(f"/api/auth/wechat-binding/authorize-url?redirectUri={redirect}",
                                     headers=headers)
    assert (not_configured.status_code, json.loads(not_configured.body)["error"]["code"]) == (
        404, "wechat_not_configured")
    connect_official_account(demo_tenant)
    elsewhere = client.http.get("/api/auth/wechat-binding/authorize-url?redirectUri="
                                + quote("https://evil.example/x", safe=""), headers=headers)
    assert elsewhere.status_code == 400
    anonymous = client.http.get(f"/api/auth/wechat-binding/authorize-url?redirectUri={redirect}")
    assert anonymous.status_code == 401
    forged = client.http.post("/api/auth/wechat-binding", headers={**headers, "Content-Type": "application/json"},
                              body=json.dumps({"code": "x", "state": "memberwechat0000000000" + "0" * 32}))
    assert (forged.status_code, json.loads(forged.body)["error"]["code"]) == (403, "invalid_state")

    assert bind_wechat(client, simulator, headers, demo_tenant, SUNQI_UNIONID, "oSunqi01").status_code == 201
    other = sign_in(demo_tenant, "zhouba")
    taken = bind_wechat(client, simulator, other, demo_tenant, SUNQI_UNIONID, "oSunqi01")
    assert (taken.status_code, json.loads(taken.body)["error"]["code"]) == (409, "wechat_bound_elsewhere")
    assert members.get(demo_tenant.tenant_key, "zhouba").unionid is None
    no_unionid = bind_wechat(client, simulator, other, demo_tenant, "", "oZhouba01")
    assert (no_unionid.status_code, json.loads(no_unionid.body)["error"]["code"]) == (409, "unionid_unavailable")
