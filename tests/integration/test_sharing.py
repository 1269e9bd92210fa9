"""Sharing for members: registering and updating items, sharing and unsharing, send-to-current-contact with its
notification, bindings and the toolbar's projects, replies, the contact's comments reaching the owner, and form
submissions for the form's maintainers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.core import config
from tests.integration.oauth_support import contact_round_trip, exchange
from tests.integration.sharing_support import (
    CHEN,
    HUANG,
    LIN,
    OPENIDS,
    UNIONIDS,
    body,
    connect_official_account,
    contact_headers,
    register,
    share,
    sync_customer,
)

NOTIFICATIONS = config.resource_name("notifications")


def _purge(name: str) -> list[dict]:
    """Take every message off a queue; returns them (with their attributes)."""
    from chalicelib.core.aws import client as aws_client
    from chalicelib.store import queues

    sqs, url, taken = aws_client("sqs"), queues.url(name), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", []):
        taken += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])
    return taken


pytestmark = pytest.mark.usefixtures("notifications_queue")


@pytest.fixture
def team(demo_tenant, sign_in):
    """zhangsan (owner of most items), lisi and wangwu, signed in."""
    return {user: sign_in(demo_tenant, user) for user in ("zhangsan", "lisi", "wangwu")}


def _home(client, headers) -> dict:
    reply = client.http.get("/api/external/home", headers=headers)
    assert reply.status_code == 200, reply.body
    return body(reply)


def _titles(client, headers, kind: str) -> list[str]:
    reply = client.http.get(f"/api/external/items?kind={kind}", headers=headers)
    assert reply.status_code == 200, reply.body
    return [item["title"] for item in body(reply)["items"]]


def _wechat_sign_in(client, simulator, tenant, external_userid: str) -> dict:
    """The contact signs in through the official account (which is how Yunqiao learns their openid)."""
    code = simulator.control.mint_oauth_code(appid="wxdemooa00000001", openid=OPENIDS[external_userid],
                                             unionid=UNIONIDS[external_userid])
    state, cookie = contact_round_trip(client, tenant.tenant_key, "wechat")
    reply = exchange(client, "/api/external/session/wechat", {"tenantKey": tenant.tenant_key, "code": code}, state,
                     cookie)
    assert reply.status_code == 201, reply.body
    return {"Authorization": f"Bearer {body(reply)['token']}", "Content-Type": "application/json"}


# --- registering ---------------------------------------------------------------------------------------------------
def test_register_creates_then_updates_and_checks_who_may(client, team):
    created = register(client, team["zhangsan"], "task", "T-1", expect=201, summary="整理需求", status="进行中",
                       url="https://eteams.test/task/T-1", members={"lisi": "edit", "wangwu": "view"})
    assert created["owner"] == {"userId": "zhangsan", "name": "张三"} and created["version"] == 1
    assert created["members"] == {"lisi": "edit", "wangwu": "view"} and created["canMaintain"] is True
    updated = register(client, team["lisi"], "task", "T-1", expect=200, title="整理需求（二）",
                       members={"lisi": "edit", "wangwu": "view"})
    assert updated["title"] == "整理需求（二）" and updated["version"] == 2 and updated["owner"]["userId"] == "zhangsan"
    viewer = client.http.put("/api/sharing/items/task/T-1", headers=team["wangwu"], body=json.dumps({"title": "x"}))
    assert viewer.status_code == 403 and body(viewer)["error"]["code"] == "not_item_editor"
    handover = client.http.put("/api/sharing/items/task/T-1", headers=team["lisi"],
                               body=json.dumps({"title": "x", "ownerId": "lisi"}))
    assert handover.status_code == 403 and body(handover)["error"]["code"] == "owner_only"
    seen = client.http.get("/api/sharing/items/task/T-1", headers=team["wangwu"])
    assert seen.status_code == 200 and body(seen)["canMaintain"] is False


@pytest.mark.parametrize("kind, fields, code", [
    ("task", {"title": ""}, "invalid_title"),
    ("task", {"title": "x" * 201}, "invalid_title"),
    ("task", {"title": "ok", "url": "javascript:alert(1)"}, "invalid_url"),
    ("task", {"title": "ok", "updatedAt": "yesterday"}, "invalid_updatedAt"),
    ("task", {"title": "ok", "members": {"lisi": "admin"}}, "invalid_members"),
    ("task", {"title": "ok", "form": {"fields": [{"name": "a", "label": "A"}]}}, "invalid_form"),
    ("form", {"title": "ok"}, "invalid_form"),
    ("form", {"title": "ok", "form": {"fields": [{"name": "a", "label": "A", "type": "select"}]}}, "invalid_form"),
    ("form", {"title": "ok", "form": {"fields": [{"name": "a", "label": "A"}, {"name": "a", "label": "B"}]}},
     "invalid_form"),
    ("task", {"title": "ok", "ownerId": "no body"}, "invalid_owner"),
])
def test_registration_is_validated(client, team, kind, fields, code):
    reply = client.http.put(f"/api/sharing/items/{kind}/X-1", headers=team["zhangsan"], body=json.dumps(fields))
    assert reply.status_code == 400 and body(reply)["error"]["code"] == code
    assert client.http.get(f"/api/sharing/items/{kind}/X-1", headers=team["zhangsan"]).status_code == 404


def test_unknown_kinds_and_bad_ids_are_refused(client, team):
    assert body(client.http.put("/api/sharing/items/memo/1", headers=team["zhangsan"],
                                body=json.dumps({"title": "x"})))["error"]["code"] == "unknown_kind"
    bad = client.http.put("/api/sharing/items/task/a%23b", headers=team["zhangsan"], body=json.dumps({"title": "x"}))
    assert bad.status_code == 400 and body(bad)["error"]["code"] == "invalid_item_id"


# --- who registers items: members their own, integrations with the team's service key, admins reclaim -------------
def _service_key(client, tenant, admin_headers) -> str:
    reply = client.http.post(f"/api/admin/tenants/{tenant.tenant_key}/service-key", headers=admin_headers)
    assert reply.status_code == 201, reply.body
    return body(reply)["serviceKey"]


def _as_service(key: str) -> dict:
    return {"Authorization": f"Service {key}", "Content-Type": "application/json"}


def test_a_member_registers_only_items_they_own(client, team):
    forged = client.http.put("/api/sharing/items/document/D-9", headers=team["lisi"],
                             body=json.dumps({"title": "报价单", "url": "https://phish.test/login", "ownerId": "zhangsan"}))
    assert forged.status_code == 403 and body(forged)["error"]["code"] == "not_own_item"
    assert client.http.get("/api/sharing/items/document/D-9", headers=team["zhangsan"]).status_code == 404
    own = register(client, team["lisi"], "document", "D-9", expect=201, ownerId="lisi")
    assert own["owner"]["userId"] == "lisi"
    register(client, team["zhangsan"], "task", "T-5", expect=201)
    taken = client.http.put("/api/sharing/items/task/T-5", headers=team["lisi"], body=json.dumps({"title": "抢注"}))
    assert taken.status_code == 403 and body(taken)["error"]["code"] == "not_item_editor"


def test_integrations_register_items_for_their_owners_with_the_teams_service_key(client, demo_tenant, team, sign_in,
                                                                                  make_tenant):
    admin = sign_in(demo_tenant, "wangwu", roles=("admin",))
    refused = client.http.post(f"/api/admin/tenants/{demo_tenant.tenant_key}/service-key", headers=team["lisi"])
    assert refused.status_code == 403 and body(refused)["error"]["code"] == "admin_required"
    key = _service_key(client, demo_tenant, admin)
    squatted = register(client, team["lisi"], "task", "T-7", expect=201, title="抢先注册")  # lisi's own, for now
    assert squatted["owner"]["userId"] == "lisi"
    reclaimed = register(client, _as_service(key), "task", "T-7", expect=200, title="真正的任务", ownerId="zhangsan")
    assert reclaimed["owner"] == {"userId": "zhangsan", "name": "张三"} and reclaimed["canMaintain"] is True
    made = register(client, _as_service(key), "document", "D-1", expect=201, ownerId="zhangsan")
    assert made["owner"]["userId"] == "zhangsan"
    no_owner = client.http.put("/api/sharing/items/document/D-2", headers=_as_service(key),
                               body=json.dumps({"title": "无主"}))
    assert no_owner.status_code == 400 and body(no_owner)["error"]["code"] == "owner_required"
    gone = client.http.put("/api/sharing/items/document/D-2", headers=_as_service(key),
                           body=json.dumps({"title": "x", "ownerId": "nobody"}))
    assert gone.status_code == 400 and body(gone)["error"]["code"] == "invalid_owner"
    # Scoped to registering items: the key opens nothing else.
    for method, path in (("get", "/api/sharing/items/document/D-1"), ("get", "/api/sharing/items/document/D-1/shares"),
                         ("get", "/api/auth/session")):
        assert getattr(client.http, method)(path, headers=_as_service(key)).status_code == 401
    other = make_tenant()
    assert client.http.put("/api/sharing/items/task/T-7", headers=_as_service(key.replace(
        demo_tenant.tenant_key, other.tenant_key)), body=json.dumps({"title": "x", "ownerId": "zhangsan"})).status_code == 401
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "yqs1.nope", ""):
        reply = client.http.put("/api/sharing/items/task/T-7", headers=_as_service(wrong),
                                body=json.dumps({"title": "x", "ownerId": "zhangsan"}))
        assert reply.status_code == 401 and body(reply)["error"]["code"] == "invalid_service_key"
    rotated = _service_key(client, demo_tenant, admin)
    assert rotated != key
    assert client.http.put("/api/sharing/items/task/T-7", headers=_as_service(key),
                           body=json.dumps({"title": "x", "ownerId": "zhangsan"})).status_code == 401
    register(client, _as_service(rotated), "task", "T-7", expect=200, ownerId="zhangsan")
    from chalicelib.store import tenants as tenant_store

    stored = tenant_store.get(demo_tenant.tenant_key)
    assert rotated.split(".")[-1] not in json.dumps(stored.attribute_values, default=str)  # only its hash is kept


def test_the_ops_cli_issues_a_service_key_that_registers_items(client, demo_tenant, team):
    from tests.integration.test_ops_cli import run_ops

    issued = run_ops("tenants", "service-key", demo_tenant.tenant_key)
    assert issued.returncode == 0, issued.stderr
    key = json.loads(issued.stdout)["serviceKey"]
    register(client, _as_service(key), "project", "P-1", expect=201, ownerId="lisi")
    assert "tenant_not_found" in run_ops("tenants", "service-key", "tnmissing00").stderr


def test_admins_reclaim_an_item_and_delete_it_from_every_sharers_home(client, demo_tenant, team, chen, lin, sign_in):
    admin = sign_in(demo_tenant, "wangwu", roles=("admin",))
    register(client, team["zhangsan"], "document", "D-3", title="交接中的文件")
    register(client, team["zhangsan"], "document", "D-4", title="另一份")
    for contact in (chen, lin):
        share(client, team["zhangsan"], "document", "D-3", contact.contact_id)
    share(client, team["zhangsan"], "document", "D-4", chen.contact_id)
    chen_headers = contact_headers(demo_tenant, chen.contact_id)
    lin_headers = contact_headers(demo_tenant, lin.contact_id)
    assert _titles(client, chen_headers, "document") == ["另一份", "交接中的文件"]

    not_admin = client.http.put("/api/sharing/items/document/D-3/owner", headers=team["zhangsan"],
                                body=json.dumps({"ownerId": "lisi"}))
    assert not_admin.status_code == 403 and body(not_admin)["error"]["code"] == "admin_required"
    moved = client.http.put("/api/sharing/items/document/D-3/owner", headers=admin, body=json.dumps({"ownerId": "lisi"}))
    assert moved.status_code == 200 and body(moved)["owner"]["userId"] == "lisi"
    shown = body(client.http.get("/api/external/items?kind=document", headers=lin_headers))["items"]
    assert [item["owner"]["userId"] for item in shown] == ["lisi"]
    bad = client.http.put("/api/sharing/items/document/D-3/owner", headers=admin, body=json.dumps({"ownerId": "nobody"}))
    assert bad.status_code == 400 and body(bad)["error"]["code"] == "invalid_owner"

    assert client.http.delete("/api/sharing/items/document/D-3", headers=team["zhangsan"]).status_code == 403
    assert client.http.delete("/api/sharing/items/document/D-3", headers=admin).status_code == 204
    assert _titles(client, chen_headers, "document") == ["另一份"]
    assert _titles(client, lin_headers, "document") == []
    chen_home = _home(client, chen_headers)
    assert [card["title"] for card in chen_home["latest"]["document"]] == ["另一份"]
    assert chen_home["counts"]["document"] == 1 and _home(client, lin_headers)["counts"]["document"] == 0
    assert client.http.get("/api/sharing/items/document/D-3", headers=team["zhangsan"]).status_code == 404
    again = client.http.delete("/api/sharing/items/document/D-3", headers=admin)
    assert again.status_code == 404 and body(again)["error"]["code"] == "item_not_found"
    reused = register(client, team["zhangsan"], "document", "D-3", expect=201, title="新文件")
    assert reused["version"] == 1
    assert body(client.http.get("/api/sharing/items/document/D-3/shares", headers=team["zhangsan"]))["shares"] == []


# --- sharing -------------------------------------------------------------------------------------------------------
def test_sharing_puts_the_item_on_the_contacts_home_and_sharing_again_moves_it_up(client, demo_tenant, team, chen):
    register(client, team["zhangsan"], "task", "T-1", title="第一件")
    register(client, team["zhangsan"], "task", "T-2", title="第二件")
    first = share(client, team["zhangsan"], "task", "T-1", chen.contact_id)
    assert first["contactId"] == chen.contact_id and first["name"] == "陈先生" and first["sharedBy"] == "zhangsan"
    share(client, team["zhangsan"], "task", "T-2", chen.contact_id)
    contact = contact_headers(demo_tenant, chen.contact_id)
    assert _titles(client, contact, "task") == ["第二件", "第一件"]
    share(client, team["zhangsan"], "task", "T-1", chen.contact_id, expect=200)
    assert _titles(client, contact, "task") == ["第一件", "第二件"]
    home = _home(client, contact)
    assert home["counts"]["task"] == 2 and [i["title"] for i in home["latest"]["task"]] == ["第一件", "第二件"]
    listed = body(client.http.get("/api/sharing/items/task/T-1/shares", headers=team["zhangsan"]))["shares"]
    assert [s["contactId"] for s in listed] == [chen.contact_id]


def test_only_maintainers_share_and_only_with_contacts_they_see(client, demo_tenant, team, chen, sign_in):
    huang = sync_customer(demo_tenant, HUANG)  # followed by lisi only: zhangsan cannot see it
    register(client, team["zhangsan"], "task", "T-1", members={"lisi": "view"})
    unseen = client.http.post("/api/sharing/items/task/T-1/shares", headers=team["zhangsan"],
                              body=json.dumps({"contactId": huang.contact_id}))
    assert unseen.status_code == 404 and body(unseen)["error"]["code"] == "contact_not_found"
    viewer = client.http.post("/api/sharing/items/task/T-1/shares", headers=team["lisi"],
                              body=json.dumps({"contactId": chen.contact_id}))
    assert viewer.status_code == 403 and body(viewer)["error"]["code"] == "not_item_editor"
    missing = client.http.post("/api/sharing/items/task/T-404/shares", headers=team["zhangsan"],
                               body=json.dumps({"contactId": chen.contact_id}))
    assert missing.status_code == 404 and body(missing)["error"]["code"] == "item_not_found"
    assert _home(client, contact_headers(demo_tenant, huang.contact_id))["counts"]["task"] == 0


def test_unsharing_removes_the_item_at_once(client, demo_tenant, team, chen):
    register(client, team["zhangsan"], "document", "D-1", title="报价单")
    register(client, team["zhangsan"], "document", "D-2", title="合同")
    share(client, team["zhangsan"], "document", "D-1", chen.contact_id)
    share(client, team["zhangsan"], "document", "D-2", chen.contact_id)
    contact = contact_headers(demo_tenant, chen.contact_id)
    assert client.http.get("/api/external/items/document/D-1", headers=contact).status_code == 200
    gone = client.http.delete(f"/api/sharing/items/document/D-1/shares/{chen.contact_id}", headers=team["zhangsan"])
    assert gone.status_code == 204
    home = _home(client, contact)
    assert home["counts"]["document"] == 1 and [i["itemId"] for i in home["latest"]["document"]] == ["D-2"]
    assert _titles(client, contact, "document") == ["合同"]
    detail = client.http.get("/api/external/items/document/D-1", headers=contact)
    assert detail.status_code == 404 and body(detail)["error"]["code"] == "item_not_found"
    again = client.http.delete(f"/api/sharing/items/document/D-1/shares/{chen.contact_id}", headers=team["zhangsan"])
    assert again.status_code == 404 and body(again)["error"]["code"] == "share_not_found"


def test_an_update_is_rerendered_for_every_sharer(client, demo_tenant, team, chen, lin):
    register(client, team["zhangsan"], "approval", "A-1", title="采购审批", status="审批中")
    for contact in (chen, lin):
        share(client, team["zhangsan"], "approval", "A-1", contact.contact_id)
    register(client, team["zhangsan"], "approval", "A-1", expect=200, title="采购审批", status="已通过",
             summary="同意")
    for contact in (chen, lin):
        headers = contact_headers(demo_tenant, contact.contact_id)
        assert _home(client, headers)["latest"]["approval"][0]["status"] == "已通过"
        listed = body(client.http.get("/api/external/items?kind=approval", headers=headers))["items"]
        assert listed[0]["status"] == "已通过" and listed[0]["summary"] == "同意"
        detail = body(client.http.get("/api/external/items/approval/A-1", headers=headers))
        assert detail["item"]["status"] == "已通过"


# --- send to the current contact -------------------------------------------------------------------------------------
def test_send_to_current_contact_shares_and_sends_a_template_message_to_a_follower(
        client, simulator, demo_tenant, team, chen, pump):
    connect_official_account(demo_tenant)
    _wechat_sign_in(client, simulator, demo_tenant, CHEN)
    register(client, team["zhangsan"], "schedule", "S-1", title="周三上门拜访")
    reply = client.http.post("/api/sharing/send", headers=team["zhangsan"],
                             body=json.dumps({"externalUserId": CHEN, "kind": "schedule", "itemId": "S-1"}))
    assert reply.status_code == 201, reply.body
    sent = body(reply)
    assert sent["contact"] == {"contactId": chen.contact_id, "name": "陈先生"} and sent["created"] is True
    assert sent["notification"] == {"channel": "wechat_template", "queued": True}
    pump.drain(NOTIFICATIONS)
    messages = simulator.control.template_messages(touser=OPENIDS[CHEN])
    assert len(messages) == 1
    assert messages[0]["data"]["keyword1"]["value"] == "周三上门拜访"
    assert messages[0]["url"].endswith(f"tenantKey={demo_tenant.tenant_key}#/i/schedule/S-1")
    assert _titles(client, contact_headers(demo_tenant, chen.contact_id), "schedule") == ["周三上门拜访"]


def test_send_notifies_nobody_when_the_contact_does_not_follow_or_is_unknown_to_the_account(
        client, simulator, demo_tenant, team, chen, lin, pump):
    connect_official_account(demo_tenant)
    _wechat_sign_in(client, simulator, demo_tenant, LIN)
    simulator.control.set_oa_follower(OPENIDS[LIN], subscribe=False)  # known to the account, not following it now
    register(client, team["zhangsan"], "task", "T-9", title="资料补充")
    to_lin = body(client.http.post("/api/sharing/send", headers=team["zhangsan"],
                                   body=json.dumps({"externalUserId": LIN, "kind": "task", "itemId": "T-9"})))
    assert to_lin["notification"]["queued"] is True
    to_chen = body(client.http.post("/api/sharing/send", headers=team["zhangsan"],
                                    body=json.dumps({"externalUserId": CHEN, "kind": "task", "itemId": "T-9"})))
    assert to_chen["notification"] == {"channel": None, "queued": False, "reason": "openid_unknown"}
    pump.drain(NOTIFICATIONS)
    assert simulator.control.template_messages() == []
    # Successful calls only: a token cached by an earlier test is refused once by the reset simulator, then renewed.
    asked = simulator.control.calls(path="/cgi-bin/user/info", errcode=0)
    assert [c["query"]["openid"] for c in asked] == [OPENIDS[LIN]]


def test_a_contact_who_stopped_following_meanwhile_is_simply_not_notified(client, simulator, demo_tenant, team,
                                                                          chen, pump):
    connect_official_account(demo_tenant)
    _wechat_sign_in(client, simulator, demo_tenant, CHEN)
    register(client, team["zhangsan"], "task", "T-1")
    simulator.control.set_fault("/cgi-bin/message/template/send", errcode=43004, times=1)
    client.http.post("/api/sharing/send", headers=team["zhangsan"],
                     body=json.dumps({"externalUserId": CHEN, "kind": "task", "itemId": "T-1"}))
    assert pump.drain(NOTIFICATIONS) == 1
    assert simulator.control.template_messages() == [] and _purge("notifications-dlq") == []


def test_a_wrong_template_id_is_dead_lettered_with_the_reason(client, simulator, demo_tenant, team, chen, pump):
    connect_official_account(demo_tenant, template_id="not-a-template-of-this-account")
    _wechat_sign_in(client, simulator, demo_tenant, CHEN)
    register(client, team["zhangsan"], "task", "T-1")
    client.http.post("/api/sharing/send", headers=team["zhangsan"],
                     body=json.dumps({"externalUserId": CHEN, "kind": "task", "itemId": "T-1"}))
    pump.drain(NOTIFICATIONS)
    dead = _purge("notifications-dlq")
    assert len(dead) == 1 and dead[0]["MessageAttributes"]["reason"]["StringValue"] == "wechat_refused"
    assert "40037" in dead[0]["MessageAttributes"]["detail"]["StringValue"]


def test_send_without_an_official_account_shares_without_notifying(client, demo_tenant, team, chen):
    register(client, team["zhangsan"], "crm_record", "C-1", title="商机：华东区")
    sent = body(client.http.post("/api/sharing/send", headers=team["zhangsan"],
                                 body=json.dumps({"externalUserId": CHEN, "kind": "crm_record", "itemId": "C-1"})))
    assert sent["notification"] == {"channel": None, "queued": False, "reason": "no_official_account"}


def test_send_to_someone_wecom_does_not_know_as_a_customer_is_a_clear_409(client, demo_tenant, team):
    register(client, team["zhangsan"], "task", "T-1")
    reply = client.http.post("/api/sharing/send", headers=team["zhangsan"],
                             body=json.dumps({"externalUserId": "wmNotACustomer01", "kind": "task", "itemId": "T-1"}))
    assert reply.status_code == 409
    error = body(reply)["error"]
    assert error["code"] == "contact_not_synced" and "wmNotACustomer01" in error["message"]
    assert "not a customer" in error["message"]
    bad = client.http.post("/api/sharing/send", headers=team["zhangsan"],
                           body=json.dumps({"externalUserId": "../x", "kind": "task", "itemId": "T-1"}))
    assert bad.status_code == 400 and body(bad)["error"]["code"] == "invalid_external_userid"


def test_not_synced_says_when_auto_sync_is_off(client, sign_in, simulator):
    from chalicelib.tenants import onboarding
    from chalicelib.store.tenants import Tenant
    from dev.seed import seed

    tenant = seed(Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json", onboarding.new_tenant_key())
    tenant.update(actions=[Tenant.settings.auto_sync_customers.set(False)])
    headers = sign_in(tenant, "zhangsan")
    register(client, headers, "task", "T-1")
    reply = client.http.post("/api/sharing/send", headers=headers,
                             body=json.dumps({"externalUserId": CHEN, "kind": "task", "itemId": "T-1"}))
    assert reply.status_code == 409 and "autoSyncCustomers" in body(reply)["error"]["message"]


def test_send_a_form_to_fill_or_one_record_to_view(client, demo_tenant, team, chen):
    register(client, team["zhangsan"], "form", "F-1", title="客户信息登记")
    register(client, team["zhangsan"], "form_record", "R-7", title="登记记录 #7",
             form={"fields": [{"name": "company", "label": "公司", "type": "text"}]}, values={"company": "陈氏贸易"})
    fill = body(client.http.post("/api/sharing/send", headers=team["zhangsan"],
                                 body=json.dumps({"externalUserId": CHEN, "kind": "form", "itemId": "F-1"})))
    assert (fill["kind"], fill["itemId"]) == ("form", "F-1")
    view = body(client.http.post("/api/sharing/send", headers=team["zhangsan"], body=json.dumps(
        {"externalUserId": CHEN, "kind": "form", "itemId": "F-1", "mode": "view", "recordId": "R-7"})))
    assert (view["kind"], view["itemId"]) == ("form_record", "R-7")
    contact = contact_headers(demo_tenant, chen.contact_id)
    record = body(client.http.get("/api/external/items/form_record/R-7", headers=contact))["item"]
    assert record["values"] == {"company": "陈氏贸易"}
    home = _home(client, contact)
    forms = next(s for s in home["sections"] if s["key"] == "forms")
    assert forms["count"] == 2 and {i["itemId"] for i in forms["latest"]} == {"F-1", "R-7"}
    bad = client.http.post("/api/sharing/send", headers=team["zhangsan"], body=json.dumps(
        {"externalUserId": CHEN, "kind": "form", "itemId": "F-1", "mode": "edit"}))
    assert bad.status_code == 400 and body(bad)["error"]["code"] == "invalid_mode"


# --- bindings and the toolbar's projects ----------------------------------------------------------------------------
def test_bindings_and_the_projects_a_member_may_open(client, demo_tenant, team, chen):
    register(client, team["zhangsan"], "project", "P-1", title="华东门店升级", members={"lisi": "view"})
    register(client, team["zhangsan"], "project", "P-2", title="年度框架协议")  # zhangsan only
    share(client, team["zhangsan"], "project", "P-2", chen.contact_id)
    bound = client.http.put(f"/api/sharing/bindings/{CHEN}", headers=team["lisi"],
                            body=json.dumps({"projectIds": ["P-1", "P-9"], "crmCustomerId": "CRM-42"}))
    assert bound.status_code == 200
    assert body(bound)["projectIds"] == ["P-1", "P-9"] and body(bound)["boundBy"] == "lisi"
    assert body(client.http.get(f"/api/sharing/bindings/{CHEN}", headers=team["zhangsan"]))["crmCustomerId"] == "CRM-42"
    seen_by_lisi = body(client.http.get(f"/api/sharing/bindings/{CHEN}/projects", headers=team["lisi"]))["projects"]
    by_id = {p["itemId"]: p for p in seen_by_lisi}
    assert [p["itemId"] for p in seen_by_lisi] == ["P-1", "P-9", "P-2"]
    assert by_id["P-1"]["canOpen"] is True and by_id["P-1"]["owner"]["userId"] == "zhangsan" and by_id["P-1"]["bound"]
    assert by_id["P-2"] == {"itemId": "P-2", "kind": "project", "bound": False, "shared": True,
                            "sharedAt": by_id["P-2"]["sharedAt"], "title": "年度框架协议", "registered": True,
                            "canOpen": False}
    assert by_id["P-9"]["registered"] is False and by_id["P-9"]["title"] is None
    seen_by_owner = body(client.http.get(f"/api/sharing/bindings/{CHEN}/projects", headers=team["zhangsan"]))
    assert all(p["canOpen"] for p in seen_by_owner["projects"] if p["registered"])
    refused = client.http.put(f"/api/sharing/bindings/{CHEN}", headers=team["zhangsan"],
                              body=json.dumps({"projectIds": "P-1"}))
    assert refused.status_code == 400


def test_a_member_who_cannot_see_the_contact_gets_404_on_bindings(client, demo_tenant, team, chen):
    reply = client.http.get(f"/api/sharing/bindings/{CHEN}/projects", headers=team["wangwu"])
    assert reply.status_code == 404 and body(reply)["error"]["code"] == "contact_not_found"


# --- conversations -------------------------------------------------------------------------------------------------
def test_a_contacts_comment_reaches_the_owner_and_a_reply_reaches_the_contact(
        client, simulator, demo_tenant, team, chen, pump):
    connect_official_account(demo_tenant)
    contact = _wechat_sign_in(client, simulator, demo_tenant, CHEN)
    register(client, team["zhangsan"], "task", "T-1", title="安装调试", members={"lisi": "view"})
    share(client, team["zhangsan"], "task", "T-1", chen.contact_id)
    pump.drain(NOTIFICATIONS)
    wrote = client.http.post("/api/external/items/task/T-1/comments", headers=contact,
                             body=json.dumps({"text": "请问周几上门？"}))
    assert wrote.status_code == 201 and body(wrote)["author"] == {"kind": "contact", "id": chen.contact_id,
                                                                   "name": "陈先生"}
    pump.drain(NOTIFICATIONS)
    cards = simulator.control.messages(touser="zhangsan")
    assert len(cards) == 1 and "请问周几上门？" in cards[0]["body"]["textcard"]["description"]
    assert "陈先生" in cards[0]["body"]["textcard"]["title"]
    reply = client.http.post("/api/sharing/items/task/T-1/comments", headers=team["lisi"],
                             body=json.dumps({"contactId": chen.contact_id, "text": "周三上午"}))
    assert reply.status_code == 201 and body(reply)["notification"]["queued"] is True
    pump.drain(NOTIFICATIONS)
    templates = simulator.control.template_messages(touser=OPENIDS[CHEN])
    assert templates and templates[-1]["data"]["remark"]["value"] == "周三上午"
    home = _home(client, contact)
    assert [(n["itemId"], n["text"], n["by"]) for n in home["notices"]] == [("T-1", "周三上午", "李四")]
    detail = body(client.http.get("/api/external/items/task/T-1", headers=contact))
    assert [(c["author"]["kind"], c["text"]) for c in detail["comments"]] == [("contact", "请问周几上门？"),
                                                                             ("member", "周三上午")]
    assert _home(client, contact)["notices"] == []
    thread = body(client.http.get(f"/api/sharing/items/task/T-1/comments?contactId={chen.contact_id}",
                                  headers=team["zhangsan"]))
    assert [c["text"] for c in thread["comments"]] == ["请问周几上门？", "周三上午"]


def test_replies_need_an_item_member_and_a_sharer(client, demo_tenant, team, chen, lin):
    register(client, team["zhangsan"], "task", "T-1")
    share(client, team["zhangsan"], "task", "T-1", chen.contact_id)
    outsider = client.http.post("/api/sharing/items/task/T-1/comments", headers=team["wangwu"],
                                body=json.dumps({"contactId": chen.contact_id, "text": "hi"}))
    assert outsider.status_code == 403
    not_shared = client.http.post("/api/sharing/items/task/T-1/comments", headers=team["zhangsan"],
                                  body=json.dumps({"contactId": lin.contact_id, "text": "hi"}))
    assert not_shared.status_code == 404 and body(not_shared)["error"]["code"] == "share_not_found"
    too_long = client.http.post("/api/sharing/items/task/T-1/comments", headers=team["zhangsan"],
                                body=json.dumps({"contactId": chen.contact_id, "text": "长" * 2001}))
    assert too_long.status_code == 400 and body(too_long)["error"]["code"] == "invalid_text"


# --- forms ---------------------------------------------------------------------------------------------------------
def test_a_shared_form_is_filled_and_its_maintainers_see_the_submissions(client, demo_tenant, team, chen, pump,
                                                                        simulator):
    register(client, team["zhangsan"], "form", "F-1", title="需求登记", members={"lisi": "edit", "wangwu": "view"})
    share(client, team["zhangsan"], "form", "F-1", chen.contact_id)
    contact = contact_headers(demo_tenant, chen.contact_id)
    detail = body(client.http.get("/api/external/items/form/F-1", headers=contact))
    assert [f["name"] for f in detail["item"]["form"]["fields"]] == ["company", "size", "visit", "level"]
    sent = client.http.post("/api/external/items/form/F-1/submissions", headers=contact, body=json.dumps(
        {"values": {"company": " 陈氏贸易 ", "size": "120", "visit": "2025-03-05", "level": "A"}}))
    assert sent.status_code == 201
    assert body(sent)["values"] == {"company": "陈氏贸易", "size": 120, "visit": "2025-03-05", "level": "A"}
    pump.drain(NOTIFICATIONS)
    assert any("需求登记" in m["body"]["textcard"]["title"] for m in simulator.control.messages(touser="zhangsan"))
    for maintainer in ("zhangsan", "lisi"):
        listed = body(client.http.get("/api/sharing/items/form/F-1/submissions", headers=team[maintainer]))
        assert [(s["contactId"], s["values"]["company"]) for s in listed["submissions"]] == [(chen.contact_id,
                                                                                             "陈氏贸易")]
    viewer = client.http.get("/api/sharing/items/form/F-1/submissions", headers=team["wangwu"])
    assert viewer.status_code == 403


@pytest.mark.parametrize("values, fragment", [
    ({}, "company"),
    ({"company": "x", "size": "many"}, "size"),
    ({"company": "x", "visit": "2025-13-40"}, "visit"),
    ({"company": "x", "level": "C"}, "level"),
    ({"company": "x", "colour": "red"}, "colour"),
    ({"company": "x" * 501}, "company"),
])
def test_submissions_are_checked_against_the_form(client, demo_tenant, team, chen, values, fragment):
    register(client, team["zhangsan"], "form", "F-1")
    share(client, team["zhangsan"], "form", "F-1", chen.contact_id)
    reply = client.http.post("/api/external/items/form/F-1/submissions",
                             headers=contact_headers(demo_tenant, chen.contact_id), body=json.dumps({"values": values}))
    assert reply.status_code == 400 and body(reply)["error"]["code"] == "invalid_submission"
    assert fragment in body(reply)["error"]["message"]
    listed = body(client.http.get("/api/sharing/items/form/F-1/submissions", headers=team["zhangsan"]))
    assert listed["submissions"] == []


def test_only_forms_take_submissions(client, demo_tenant, team, chen):
    register(client, team["zhangsan"], "task", "T-1")
    share(client, team["zhangsan"], "task", "T-1", chen.contact_id)
    reply = client.http.post("/api/external/items/task/T-1/submissions",
                             headers=contact_headers(demo_tenant, chen.contact_id), body=json.dumps({"values": {}}))
    assert reply.status_code == 400 and body(reply)["error"]["code"] == "not_a_form"


# --- the local stack's demo --------------------------------------------------------------------------------------------
def test_the_demo_seed_shares_one_item_of_every_kind_with_the_demo_contact_once(client, demo_tenant):
    from chalicelib.store import contacts
    from dev.seed_sharing import ITEMS, seed_shared_items

    assert seed_shared_items(demo_tenant) == [contacts.customer_contact_id(CHEN)]
    headers = contact_headers(demo_tenant, contacts.customer_contact_id(CHEN))
    home = _home(client, headers)
    assert sum(home["counts"].values()) == len(ITEMS) == 8
    assert all(section["count"] >= 1 for section in home["sections"])
    before = home["latest"]
    seed_shared_items(demo_tenant)  # a second `make run`
    assert _home(client, headers)["latest"] == before
