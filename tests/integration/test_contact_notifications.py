"""Contacts told through the official account without ever signing in: the follower of their unionid (learned by the
reconciliation or a follow callback) receives the template message; an unfollower receives nothing and the reason
says why. Every event the seeds name: shared with you / added as 共享人, a reply to your comment, your account opened."""
from __future__ import annotations

import json

import pytest

from chalicelib.core import config
from chalicelib.followers import reconcile
from chalicelib.store import followers
from chalicelib.tenants import official_account
from tests.integration.api_support import body
from tests.integration.sharing_support import (LIN, OPENIDS, connect_official_account, contact_headers, register,
                                               share, sync_customer)

NOTIFICATIONS = config.resource_name("notifications")
FOLLOWERS = config.resource_name("followers")
CALLBACKS = config.resource_name("callbacks")
LUO = "wmYQdemoa3098322f75f2a3e66164d0f"  # 罗女士: followed by lisi; followed the account once and stopped
TOKEN, AES_KEY = "YunqiaoDemoOaToken", "dEmOoAcAlLbAcKaEsKeY0123456789aBcDeFgHiJkLm"


@pytest.fixture
def followers_known(demo_tenant, pump, queue):
    """The demo tenant with its official account, whose followers were reconciled (林女士 among them)."""
    queue("followers")
    queue("notifications")
    connect_official_account(demo_tenant)
    official_account.store_callback_keys(demo_tenant, TOKEN, AES_KEY)
    reconcile.start(demo_tenant, "admin")
    pump.drain(FOLLOWERS)
    assert reconcile.describe(demo_tenant)["status"] == "succeeded"
    return demo_tenant


@pytest.fixture
def team(demo_tenant, sign_in):
    return {user: sign_in(demo_tenant, user) for user in ("zhangsan", "lisi")}


def test_a_follower_who_never_signed_in_is_told_when_added_as_sharer(client, simulator, followers_known, team, lin,
                                                                     pump):
    assert followers_known.tenant_key and lin.unionid == "oz4Dq5demoUnion000000000002" and not lin.openid
    register(client, team["zhangsan"], "task", "T-7", title="提交门店平面图")
    shared = share(client, team["zhangsan"], "task", "T-7", lin.contact_id)
    assert shared["notification"] == {"channel": "wechat_template", "queued": True}
    again = share(client, team["zhangsan"], "task", "T-7", lin.contact_id, expect=200)
    assert again["notification"] == {"channel": None, "queued": False, "reason": "already_shared"}
    assert pump.drain(NOTIFICATIONS) == 1
    [message] = simulator.control.template_messages(touser=OPENIDS[LIN])
    assert message["data"]["first"]["value"] == "您被添加为共享人"
    assert message["data"]["keyword1"]["value"] == "提交门店平面图"
    assert message["data"]["keyword2"]["value"] == "张三共享了任务"
    assert message["url"].endswith(f"/mobile/wechat/external/home?tenantKey={followers_known.tenant_key}#/i/task/T-7")


def test_without_a_real_public_base_url_the_share_stands_and_nobody_is_sent_a_dead_link(
        client, simulator, followers_known, team, lin, pump):
    from chalicelib.store import tenants as tenant_store

    tenant_store.update_settings(tenant_store.get(followers_known.tenant_key),
                                 {"public_base_url": "https://yunqiao.example.com"})
    register(client, team["zhangsan"], "task", "T-5")
    shared = share(client, team["zhangsan"], "task", "T-5", lin.contact_id)
    assert shared["notification"] == {"channel": None, "queued": False, "reason": "no_public_url"}
    assert pump.drain(NOTIFICATIONS) == 0


def test_an_unfollower_is_not_told_and_the_reason_says_so(client, simulator, app_server, followers_known, team, lin,
                                                          pump):
    answer = simulator.control.oa_push("unsubscribe", OPENIDS[LIN],
                                       f"{app_server}/wechat/callback/{followers_known.tenant_key}")
    assert (answer["status"], answer["body"]) == (200, "success"), answer
    pump.drain(CALLBACKS)
    assert followers.get(followers_known.tenant_key, OPENIDS[LIN]).following is False
    register(client, team["zhangsan"], "task", "T-8")
    shared = share(client, team["zhangsan"], "task", "T-8", lin.contact_id)
    assert shared["notification"] == {"channel": None, "queued": False, "reason": "not_following"}
    assert pump.drain(NOTIFICATIONS) == 0
    assert simulator.control.template_messages() == []


def test_a_follow_callback_makes_a_contact_reachable_at_once(client, simulator, app_server, demo_tenant, team, pump,
                                                             queue):
    """罗女士 unfollowed before the reconciliation; she follows again: the callback alone makes her reachable."""
    queue("notifications")
    connect_official_account(demo_tenant)
    official_account.store_callback_keys(demo_tenant, TOKEN, AES_KEY)
    luo = sync_customer(demo_tenant, LUO)
    register(client, team["lisi"], "task", "T-9")
    before = share(client, team["lisi"], "task", "T-9", luo.contact_id)
    assert before["notification"] == {"channel": None, "queued": False, "reason": "openid_unknown"}
    answer = simulator.control.oa_push("subscribe", "oDemoOpenid0009",
                                       f"{app_server}/wechat/callback/{demo_tenant.tenant_key}")
    assert answer["status"] == 200, answer
    pump.drain(CALLBACKS)
    register(client, team["lisi"], "document", "D-9", title="验收标准")
    after = share(client, team["lisi"], "document", "D-9", luo.contact_id)
    assert after["notification"] == {"channel": "wechat_template", "queued": True}
    pump.drain(NOTIFICATIONS)
    assert [m["data"]["keyword1"]["value"] for m in simulator.control.template_messages(touser="oDemoOpenid0009")] \
        == ["验收标准"]


def test_a_reply_to_the_contacts_comment_reaches_a_follower_who_never_signed_in(client, simulator, followers_known,
                                                                               team, lin, pump):
    register(client, team["zhangsan"], "task", "T-1", title="确认安装排期")
    share(client, team["zhangsan"], "task", "T-1", lin.contact_id)
    pump.drain(NOTIFICATIONS)
    contact = contact_headers(followers_known, lin.contact_id)  # a WeCom session: WeChat never saw her sign in
    wrote = client.http.post("/api/external/items/task/T-1/comments", headers=contact,
                             body=json.dumps({"text": "下周二可以吗？"}))
    assert wrote.status_code == 201, wrote.body
    reply = client.http.post("/api/sharing/items/task/T-1/comments", headers=team["zhangsan"],
                             body=json.dumps({"contactId": lin.contact_id, "text": "可以，上午十点"}))
    assert reply.status_code == 201 and body(reply)["notification"] == {"channel": "wechat_template", "queued": True}
    pump.drain(NOTIFICATIONS)
    last = simulator.control.template_messages(touser=OPENIDS[LIN])[-1]
    assert last["data"]["first"]["value"] == "张三回复了您" and last["data"]["remark"]["value"] == "可以，上午十点"
    assert last["url"].endswith("#/i/task/T-1")


@pytest.mark.parametrize("delivery, how", [({"delivery": "activation"}, "激活链接"),
                                           ({"delivery": "password", "password": "Xq7#pLm2vR9!"}, "初始密码")])
def test_an_opened_account_is_told_with_how_to_sign_in(client, simulator, followers_known, sign_in, lin, pump,
                                                       delivery, how):
    admin = sign_in(followers_known, "lisi", roles=("admin",))
    reply = client.http.put(f"/api/directory/contacts/{lin.contact_id}/account", headers=admin,
                            body=json.dumps(delivery))
    assert reply.status_code == 201, reply.body
    opened = body(reply)
    pump.drain(NOTIFICATIONS)
    [message] = simulator.control.template_messages(touser=OPENIDS[LIN])
    assert message["data"]["first"]["value"] == "您的协作账号已开通"
    assert message["data"]["keyword1"]["value"] == f"账号 {opened['accountName']}"
    remark = message["data"]["remark"]["value"]
    assert how in remark and "在微信中点击即可进入" in remark and opened["accountName"] in remark
    assert message["url"].endswith(f"/mobile/wechat/external/home?tenantKey={followers_known.tenant_key}")
    if opened["activationUrl"]:  # the link itself stays with whoever hands it over
        assert opened["activationUrl"].split("#activate=")[1] not in json.dumps(message, ensure_ascii=False)


def test_the_demo_seed_tells_lin_who_follows_but_never_signed_in(simulator, demo_tenant, pump, queue):
    """What `make run` does for 林女士: the account's followers are learned, a schedule is shared with her, and the
    pump delivers her template message. A second seed shares and tells nothing again."""
    from pathlib import Path

    from dev.seed_sharing import connect_official_account as connect_scenario_account
    from dev.seed_sharing import seed_follower_notice, seed_shared_items

    queue("notifications")
    queue("followers")
    scenario = json.loads((Path(__file__).resolve().parents[2] / "dev/scenarios/demo.json").read_text("utf-8"))
    connect_scenario_account(demo_tenant, scenario["official_accounts"][0])
    seed_shared_items(demo_tenant)
    assert seed_follower_notice(demo_tenant) == {"channel": "wechat_template", "queued": True}
    pump.drain(NOTIFICATIONS)
    [told] = simulator.control.template_messages(touser=OPENIDS[LIN])
    assert told["data"]["keyword1"]["value"] == "现场勘察：南京西路店"
    assert told["url"].endswith("#/i/schedule/demo-s-001")
    assert seed_follower_notice(demo_tenant) is None

