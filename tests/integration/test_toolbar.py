"""The chat toolbar's API: the JS-SDK register config (signatures WeCom's client accepts), the card `send` answers for
every kind, the three project tabs, the contact card, on-the-spot lookup of a new customer, group chats and 上下游
contacts."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.integration.api_support import body

CONFIG = "/api/sharing/toolbar/register-config"


@pytest.fixture
def zhangsan(demo_tenant, sign_in):
    return sign_in(demo_tenant, "zhangsan")


def page_url(tenant, extra: str = "") -> str:
    return f"https://yq.test/directory/toolbar?tenantKey={tenant.tenant_key}{extra}"


def _config(client, headers, url: str):
    return client.http.get(f"{CONFIG}?url={quote(url, safe='')}", headers=headers)


# --- the JS-SDK register config ------------------------------------------------------------------------------------
def test_the_register_config_signs_the_toolbar_page_as_wecom_checks_it(client, simulator, demo_tenant, zhangsan):
    url = page_url(demo_tenant, "#/send")
    reply = _config(client, zhangsan, url)
    assert reply.status_code == 200, reply.body
    answer = body(reply)
    assert answer["corpId"] == demo_tenant.corp_id and answer["agentId"] == demo_tenant.agent_id
    assert answer["url"] == page_url(demo_tenant) and "getCurExternalContact" in answer["jsApiList"]
    assert reply.headers["Cache-Control"] == "no-store"
    verify = simulator.control.verify_signature
    signed = (answer["nonceStr"], answer["timestamp"])
    assert verify(url, *signed, answer["signature"], corpid=demo_tenant.corp_id)["valid"] is True
    assert verify(url, *signed, answer["agentSignature"], corpid=demo_tenant.corp_id,
                  agentid=demo_tenant.agent_id)["valid"] is True
    # Another page, or the signatures swapped, do not verify.
    assert verify(page_url(demo_tenant, "&x=1"), *signed, answer["signature"])["valid"] is False
    assert verify(url, *signed, answer["signature"], agentid=demo_tenant.agent_id)["valid"] is False
    # A second page load reuses the cached tickets.
    assert _config(client, zhangsan, url).status_code == 200
    assert len(simulator.control.calls(path="get_jsapi_ticket", errcode=0)) == 1
    assert len(simulator.control.calls(path="ticket/get", errcode=0)) == 1


@pytest.mark.parametrize("url", [
    "", "https://evil.test/directory/toolbar?tenantKey=x", "https://yq.test/directory/contacts?tenantKey=x",
    "https://yq.test/directory/toolbar/../contacts", "javascript:alert(1)", "https://yq.test:444/directory/toolbar",
    "http://yq.test/directory/toolbar", "https://user@yq.test/directory/toolbar",
])
def test_a_url_other_than_the_teams_toolbar_page_is_refused(client, simulator, demo_tenant, zhangsan, url):
    reply = _config(client, zhangsan, url)
    assert reply.status_code == 400, reply.body
    assert body(reply)["error"]["code"] == "invalid_page_url" and "toolbar" in body(reply)["error"]["message"]
    assert simulator.control.calls(path="get_jsapi_ticket") == []


def test_a_team_with_its_own_site_and_a_team_without_an_app(client, simulator, demo_tenant, zhangsan, monkeypatch):
    from chalicelib.store import tenants as tenant_store
    from chalicelib.store.tenants import Tenant

    demo_tenant.update(actions=[Tenant.settings.public_base_url.set("https://collab.example.cn/yq")])
    monkeypatch.setattr(tenant_store, "_recent", {})
    own = _config(client, zhangsan, f"https://collab.example.cn/yq/directory/toolbar?tenantKey={demo_tenant.tenant_key}")
    assert own.status_code == 200, own.body
    assert _config(client, zhangsan, page_url(demo_tenant)).status_code == 400  # the deployment's site is not theirs
    demo_tenant.update(actions=[Tenant.agent_id.remove()])
    monkeypatch.setattr(tenant_store, "_recent", {})
    no_app = _config(client, zhangsan, "https://collab.example.cn/yq/directory/toolbar?tenantKey=x")
    assert no_app.status_code == 409 and body(no_app)["error"]["code"] == "no_wecom_app"


def test_the_register_config_needs_a_member_session(client, demo_tenant):
    reply = _config(client, {}, page_url(demo_tenant))
    assert reply.status_code == 401


def test_wecom_refusing_the_ticket_is_a_503_not_a_500(client, simulator, demo_tenant, zhangsan):
    simulator.control.set_fault("get_jsapi_ticket", errcode=60020, times=1)
    reply = _config(client, zhangsan, page_url(demo_tenant))
    assert reply.status_code == 503 and body(reply)["error"]["code"] == "wecom_unavailable"
    assert _config(client, zhangsan, page_url(demo_tenant)).status_code == 200


# --- send answers a card, for every kind -----------------------------------------------------------------------------
def _send(client, headers, **fields):
    return client.http.post("/api/sharing/send", headers=headers, body=json.dumps(fields))


@pytest.mark.parametrize("kind", ["project", "task", "approval", "document", "schedule", "crm_record", "form"])
def test_send_answers_the_card_for_the_chat_for_every_kind(client, demo_tenant, zhangsan, chen, kind):
    from tests.integration.sharing_support import CHEN, register

    register(client, zhangsan, kind, "X-1", title=f"给陈先生的{kind}", status="进行中", summary="请查看")
    reply = _send(client, zhangsan, externalUserId=CHEN, kind=kind, itemId="X-1")
    assert reply.status_code == 201, reply.body
    card = body(reply)["card"]
    assert card["title"] == f"给陈先生的{kind}"
    assert card["link"] == f"https://yq.test/mobile/wechat/external/home?tenantKey={demo_tenant.tenant_key}#/i/{kind}/X-1"
    assert card["imgUrl"] == f"https://yq.test/mobile/wechat/external/cards/{kind}.png"
    assert "进行中" in card["description"] and "张三" in card["description"]
    picture = client.http.get(f"/mobile/wechat/external/cards/{kind}.png", headers={"Accept": "image/png"})
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/png"
    assert picture.body[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_form_record_is_sent_to_view_with_its_own_card(client, demo_tenant, zhangsan, chen):
    from tests.integration.sharing_support import CHEN, register

    register(client, zhangsan, "form", "F-1", title="客户信息登记")
    register(client, zhangsan, "form_record", "R-1", title="登记记录 #1",
             form={"fields": [{"name": "company", "label": "公司", "type": "text"}]}, values={"company": "陈氏"})
    fill = body(_send(client, zhangsan, externalUserId=CHEN, kind="form", itemId="F-1"))["card"]
    view = body(_send(client, zhangsan, externalUserId=CHEN, kind="form", itemId="F-1", mode="view",
                      recordId="R-1"))["card"]
    assert "请填写" in fill["description"] and fill["link"].endswith("#/i/form/F-1")
    assert view["title"] == "登记记录 #1" and view["link"].endswith("#/i/form_record/R-1")
    browser_accept = {"Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}
    picture = client.http.get("/mobile/wechat/external/cards/form.png", headers=browser_accept)
    assert picture.status_code == 200 and picture.body[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.http.get("/mobile/wechat/external/cards/nothing.png").status_code == 404
    assert client.http.get("/mobile/wechat/external/cards/task.gif").status_code == 404


def test_a_placeholder_public_base_url_refuses_the_card_before_sharing(client, demo_tenant, zhangsan, chen,
                                                                       monkeypatch):
    from chalicelib.store import shares
    from chalicelib.store import tenants as tenant_store
    from chalicelib.store.tenants import Tenant
    from tests.integration.sharing_support import CHEN, register

    register(client, zhangsan, "task", "T-1")
    demo_tenant.update(actions=[Tenant.settings.public_base_url.set("https://yunqiao.example.com")])
    monkeypatch.setattr(tenant_store, "_recent", {})
    reply = _send(client, zhangsan, externalUserId=CHEN, kind="task", itemId="T-1")
    assert reply.status_code == 409 and body(reply)["error"]["code"] == "public_base_url_placeholder"
    assert list(shares.sharers(demo_tenant.tenant_key, "task", "T-1")) == []


# --- on-the-spot lookup ----------------------------------------------------------------------------------------------
def test_a_customer_added_minutes_ago_is_looked_up_and_added_on_the_spot(client, simulator, demo_tenant, zhangsan):
    from chalicelib.store import contacts
    from tests.integration.sharing_support import CHEN, register

    assert contacts.get(demo_tenant.tenant_key, contacts.customer_contact_id(CHEN)) is None
    register(client, zhangsan, "task", "T-1", title="安装调试")
    reply = _send(client, zhangsan, externalUserId=CHEN, kind="task", itemId="T-1")
    assert reply.status_code == 201, reply.body
    added = contacts.get(demo_tenant.tenant_key, contacts.customer_contact_id(CHEN))
    assert added is not None and added.name == "陈先生" and added.source == contacts.SOURCE_WECOM_CUSTOMER
    assert [c["query"]["external_userid"] for c in simulator.control.calls(path="externalcontact/get")] == [CHEN]
    # Known now: the next request asks WeCom nothing.
    assert client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                            body=json.dumps({"externalUserId": CHEN})).status_code == 200
    assert len(simulator.control.calls(path="externalcontact/get")) == 1


def test_a_customer_who_is_a_member_or_unknown_to_wecom_is_a_clear_409(client, simulator, demo_tenant, zhangsan,
                                                                      monkeypatch):
    from chalicelib.store import contacts
    from chalicelib.store import tenants as tenant_store

    tenant_store.set_corp_info(demo_tenant, "云桥演示科技", demo_tenant.agent_id)
    monkeypatch.setattr(tenant_store, "_recent", {})  # this process forgets the tenant it read before the change
    simulator.control.add_customer({"external_userid": "wmColleague0001", "name": "同事", "type": 2,
                                    "corp_name": "云桥演示科技", "corp_full_name": "云桥演示科技",
                                    "follow_users": [{"userid": "zhangsan"}]})
    member = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                              body=json.dumps({"externalUserId": "wmColleague0001"}))
    assert member.status_code == 409 and body(member)["error"]["code"] == "contact_is_member"
    assert contacts.get(demo_tenant.tenant_key, contacts.customer_contact_id("wmColleague0001")) is None
    unknown = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                               body=json.dumps({"externalUserId": "wmNobody"}))
    assert unknown.status_code == 409 and body(unknown)["error"]["code"] == "contact_not_synced"
    assert "not a customer" in body(unknown)["error"]["message"]
    bad = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                           body=json.dumps({"externalUserId": "a/b"}))
    assert bad.status_code == 400 and body(bad)["error"]["code"] == "invalid_external_userid"


def test_wecom_not_answering_the_lookup_is_a_503(client, simulator, demo_tenant, zhangsan):
    from tests.integration.sharing_support import CHEN

    simulator.control.set_fault("externalcontact/get", errcode=-1, times=10)
    reply = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                             body=json.dumps({"externalUserId": CHEN}))
    assert reply.status_code == 503 and body(reply)["error"]["code"] == "wecom_unavailable"


# --- the contact card and the three project tabs ----------------------------------------------------------------------
def test_the_contact_card_says_who_they_are_and_what_is_shared_with_them(client, demo_tenant, zhangsan, chen):
    from tests.integration.sharing_support import CHEN, register, share

    register(client, zhangsan, "task", "T-1", title="安装调试")
    register(client, zhangsan, "document", "D-1", title="报价单")
    share(client, zhangsan, "task", "T-1", chen.contact_id)
    share(client, zhangsan, "document", "D-1", chen.contact_id)
    reply = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan, body=json.dumps({"externalUserId": CHEN}))
    assert reply.status_code == 200, reply.body
    card = body(reply)
    assert card["contact"]["contactId"] == chen.contact_id and card["contact"]["name"] == "陈先生"
    assert card["contact"]["source"] == "wecom_customer" and "orgName" in card["contact"]
    assert card["shared"]["counts"]["task"] == 1 and card["shared"]["counts"]["document"] == 1
    assert [i["title"] for i in card["shared"]["latest"]["task"]] == ["安装调试"]
    assert card["binding"]["projectIds"] == []
    by_id = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                             body=json.dumps({"contactId": chen.contact_id}))
    assert body(by_id)["contact"]["contactId"] == chen.contact_id


def test_the_project_view_has_the_members_own_projects_beside_bound_and_contact_projects(
        client, demo_tenant, sign_in, zhangsan, chen):
    from tests.integration.sharing_support import register, share

    lisi = sign_in(demo_tenant, "lisi")
    register(client, zhangsan, "project", "P-own", title="张三自己的项目")
    register(client, lisi, "project", "P-edit", title="李四的项目（张三参与）", members={"zhangsan": "edit"})
    register(client, lisi, "project", "P-view", title="李四的项目（共享给张三）", members={"zhangsan": "view"})
    register(client, lisi, "project", "P-other", title="李四独有的项目")
    share(client, lisi, "project", "P-other", chen.contact_id)
    bound = client.http.put(f"/api/sharing/toolbar/contacts/{chen.contact_id}/binding", headers=zhangsan,
                            body=json.dumps({"projectIds": ["P-own"], "crmCustomerId": "CRM-1"}))
    assert bound.status_code == 200 and body(bound)["projectIds"] == ["P-own"]
    view = body(client.http.get(f"/api/sharing/toolbar/contacts/{chen.contact_id}/projects", headers=zhangsan))
    own = {p["itemId"]: p["role"] for p in view["ownProjects"]}
    assert own == {"P-own": "owner", "P-edit": "edit", "P-view": "view"}
    tabs = {p["itemId"]: p for p in view["projects"]}
    assert tabs["P-own"]["bound"] is True and tabs["P-own"]["canOpen"] is True
    assert tabs["P-other"] == {"itemId": "P-other", "kind": "project", "bound": False, "shared": True,
                               "sharedAt": tabs["P-other"]["sharedAt"], "title": "李四独有的项目",
                               "registered": True, "canOpen": False}
    # Taken off a project: it leaves 本人的项目 at once.
    register(client, lisi, "project", "P-edit", expect=200, title="李四的项目", members={})
    view = body(client.http.get(f"/api/sharing/toolbar/contacts/{chen.contact_id}/projects", headers=zhangsan))
    assert {p["itemId"] for p in view["ownProjects"]} == {"P-own", "P-view"}
    lisi_view = body(client.http.get(f"/api/sharing/toolbar/contacts/{chen.contact_id}/projects", headers=lisi))
    assert {p["itemId"] for p in lisi_view["ownProjects"]} == {"P-edit", "P-view", "P-other"}


def test_another_tenants_contact_or_an_unseen_one_is_404(client, demo_tenant, sign_in, chen):
    wangwu = sign_in(demo_tenant, "wangwu")
    reply = client.http.get(f"/api/sharing/toolbar/contacts/{chen.contact_id}/projects", headers=wangwu)
    assert reply.status_code == 404 and body(reply)["error"]["code"] == "contact_not_found"
    bad = client.http.put("/api/sharing/toolbar/contacts/ct-nope/binding", headers=wangwu,
                          body=json.dumps({"projectIds": []}))
    assert bad.status_code == 404


# --- group chats --------------------------------------------------------------------------------------------------
def test_a_group_chat_lists_its_customers_to_pick_one(client, simulator, demo_tenant, sign_in, zhangsan, chen):
    from tests.integration.sharing_support import CHEN, LIN

    simulator.control.add_group_chat({"chat_id": "wrGroup0001", "name": "门店升级项目群", "owner": "zhangsan",
                                      "member_list": [
                                          {"userid": "zhangsan", "type": 1, "name": "张三"},
                                          {"userid": CHEN, "type": 2, "name": "陈先生"},
                                          {"userid": LIN, "type": 2, "name": "林女士"}]})
    reply = client.http.get("/api/sharing/toolbar/group-chats/wrGroup0001", headers=zhangsan)
    assert reply.status_code == 200, reply.body
    group = body(reply)
    assert group["name"] == "门店升级项目群"
    assert group["customers"] == [{"externalUserId": CHEN, "name": "陈先生", "inDirectory": True},
                                  {"externalUserId": LIN, "name": "林女士", "inDirectory": False}]
    asked = simulator.control.calls(path="externalcontact/groupchat/get", errcode=0)
    assert asked[-1]["body"] == {"chat_id": "wrGroup0001", "need_name": 1}
    outsider = client.http.get("/api/sharing/toolbar/group-chats/wrGroup0001", headers=sign_in(demo_tenant, "lisi"))
    assert outsider.status_code == 403 and body(outsider)["error"]["code"] == "not_in_group"
    missing = client.http.get("/api/sharing/toolbar/group-chats/wrNoSuchGroup", headers=zhangsan)
    assert missing.status_code == 409 and body(missing)["error"]["code"] == "group_chat_not_found"
    bad = client.http.get("/api/sharing/toolbar/group-chats/a%2Fb", headers=zhangsan)
    assert bad.status_code == 400


# --- 上下游 contacts ------------------------------------------------------------------------------------------------
def test_a_chain_contact_is_resolved_by_corp_and_userid(client, demo_tenant, zhangsan, sign_in):
    from tests.integration.sharing_support import CHAIN_CORP, CHAIN_USER, chain_contact, register

    contact = chain_contact(demo_tenant)
    card = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                            body=json.dumps({"corpId": CHAIN_CORP, "userId": CHAIN_USER}))
    assert card.status_code == 200, card.body
    assert body(card)["contact"]["contactId"] == contact.contact_id == f"cg-{CHAIN_CORP}.{CHAIN_USER}"
    assert body(card)["contact"]["source"] == "wecom_chain"
    register(client, zhangsan, "task", "T-1", title="备货计划")
    sent = _send(client, zhangsan, corpId=CHAIN_CORP, userId=CHAIN_USER, kind="task", itemId="T-1")
    assert sent.status_code == 201 and body(sent)["contact"]["contactId"] == contact.contact_id
    assert body(sent)["card"]["link"].endswith("#/i/task/T-1")
    lisi = sign_in(demo_tenant, "lisi")  # not among the contact's members
    hidden = client.http.post("/api/sharing/toolbar/contact", headers=lisi,
                              body=json.dumps({"corpId": CHAIN_CORP, "userId": CHAIN_USER}))
    assert hidden.status_code == 404


def test_a_chain_contact_not_synced_yet_is_a_clear_409(client, demo_tenant, zhangsan):
    reply = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                             body=json.dumps({"corpId": "wwchainnew0001", "userId": "zhao"}))
    assert reply.status_code == 409
    error = body(reply)["error"]
    assert error["code"] == "chain_contact_not_synced" and "上下游 sync" in error["message"]
    bad = client.http.post("/api/sharing/toolbar/contact", headers=zhangsan,
                           body=json.dumps({"corpId": "ww#1", "userId": "zhao"}))
    assert bad.status_code == 400 and body(bad)["error"]["code"] == "invalid_chain_contact"


# --- the local stack's demo ------------------------------------------------------------------------------------------
def test_the_demo_seed_leaves_a_project_to_bind_and_a_task_to_send_to_chen(client, demo_tenant, zhangsan):
    from chalicelib.store import contacts
    from dev.seed_sharing import TOOLBAR_ITEMS, seed_shared_items
    from tests.integration.sharing_support import CHEN, contact_headers

    seed_shared_items(demo_tenant)
    chen_id = contacts.customer_contact_id(CHEN)
    view = body(client.http.get(f"/api/sharing/toolbar/contacts/{chen_id}/projects", headers=zhangsan))
    assert "demo-p-002" in {p["itemId"] for p in view["ownProjects"]}
    assert "demo-p-002" not in {p["itemId"] for p in view["projects"]}
    tasks = body(client.http.get("/api/sharing/toolbar/my-items?kind=task", headers=zhangsan))["items"]
    assert "demo-t-003" in {t["itemId"] for t in tasks} and all(t["canMaintain"] for t in tasks)
    sent = _send(client, zhangsan, contactId=chen_id, kind="task", itemId="demo-t-003")
    assert sent.status_code == 201 and body(sent)["created"] is True
    home = body(client.http.get("/api/external/home", headers=contact_headers(demo_tenant, chen_id)))
    assert home["latest"]["task"][0]["title"] == dict((i, f) for _k, i, f in TOOLBAR_ITEMS)["demo-t-003"]["title"]
    assert client.http.get("/api/sharing/toolbar/my-items?kind=nothing", headers=zhangsan).status_code == 404


def test_items_registered_before_the_member_index_are_indexed_by_the_ops_command(client, demo_tenant, zhangsan, chen):
    from chalicelib.store import shares
    from tests.integration.sharing_support import register
    from tests.integration.test_ops_cli import run_ops

    register(client, zhangsan, "project", "P-old", title="老项目", members={"lisi": "view"})
    shares.index_member_items(demo_tenant.tenant_key, "project", "P-old", [], ["zhangsan", "lisi"])  # as before
    url = f"/api/sharing/toolbar/contacts/{chen.contact_id}/projects"
    assert body(client.http.get(url, headers=zhangsan))["ownProjects"] == []
    done = run_ops("tenants", "index-member-items", demo_tenant.tenant_key)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"tenantKey": demo_tenant.tenant_key, "items": 1}
    assert [p["itemId"] for p in body(client.http.get(url, headers=zhangsan))["ownProjects"]] == ["P-old"]
    unknown = run_ops("tenants", "index-member-items", "tnnosuchtenant")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
