"""The tenant's settings (设置) through the admin routes and the ops CLI, and what each setting changes where it acts:
callbacks and the sync (auto-sync), contact creation (default level), the external home (apps), the official
account's secret (Secrets Manager), and the audit of every change."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.core import config
from chalicelib.store import contacts, secrets
from chalicelib.store import tenants as tenant_store
from tests.integration.sharing_support import body, contact_headers, register, share

CALLBACKS = config.resource_name("callbacks")
SYNC = config.resource_name("sync")
DEMO = Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json"
CUSTOMER = "wmYQdemoa9f7e97965d6cf799a529102"  # 陈先生: a WeChat customer followed by zhangsan and lisi


@pytest.fixture
def admin(demo_tenant, sign_in):
    return sign_in(demo_tenant, "zhangsan", roles=("admin",))


def settings_path(tenant) -> str:
    return f"/api/admin/tenants/{tenant.tenant_key}/settings"


def patch(client, tenant, headers: dict, changes: dict, expect: int = 200) -> dict:
    reply = client.http.patch(settings_path(tenant), headers=headers, body=json.dumps(changes))
    assert reply.status_code == expect, reply.body
    return body(reply)


def error_code(reply) -> str:
    return json.loads(reply.body)["error"]["code"]


# --- the API ---------------------------------------------------------------------------------------------------------
def test_an_admin_reads_and_changes_settings_and_each_change_is_audited(client, demo_tenant, admin):
    shown = body(client.http.get(settings_path(demo_tenant), headers=admin))
    assert shown["autoSyncCustomers"] is True and shown["defaultSecurityLevel"] == 0
    assert shown["customerDimensionName"] == "企业微信客户" and shown["officialAccount"]["secretStored"] is False
    assert all(app["open"] for app in shown["externalApps"]) and len(shown["externalApps"]) == 17

    changed = patch(client, demo_tenant, admin, {
        "defaultSecurityLevel": -20, "customerDimensionName": " 企微客户 ", "chainDimensionName": "上下游伙伴",
        "wechatDefaultOrgName": "个人微信客户", "publicBaseUrl": "https://yq.partner-corp.cn/",
    })
    assert changed["defaultSecurityLevel"] == -20 and changed["customerDimensionName"] == "企微客户"
    assert changed["publicBaseUrl"] == "https://yq.partner-corp.cn"
    stored = tenant_store.get(demo_tenant.tenant_key).settings
    assert (stored.default_security_level, stored.chain_dimension_name, stored.wechat_default_org_name) == (
        -20, "上下游伙伴", "个人微信客户")

    history = body(client.http.get(settings_path(demo_tenant) + "/history", headers=admin))
    [entry] = history["entries"]
    assert entry["actor"] == "zhangsan" and entry["action"] == "settings" and entry["at"]
    assert entry["before"] == {"defaultSecurityLevel": 0, "customerDimensionName": "企业微信客户",
                               "chainDimensionName": "上下游", "wechatDefaultOrgName": "微信客户",
                               "publicBaseUrl": shown["publicBaseUrl"]}
    assert entry["after"]["defaultSecurityLevel"] == -20 and entry["after"]["publicBaseUrl"] == "https://yq.partner-corp.cn"

    patch(client, demo_tenant, admin, {"defaultSecurityLevel": -20})  # the same value again: nothing to audit
    assert len(body(client.http.get(settings_path(demo_tenant) + "/history", headers=admin))["entries"]) == 1


def test_members_who_are_not_admins_are_refused_and_nothing_changes(client, demo_tenant, sign_in):
    maintainer = sign_in(demo_tenant, "lisi", roles=("directory_maintainer",))
    for reply in (client.http.get(settings_path(demo_tenant), headers=maintainer),
                  client.http.patch(settings_path(demo_tenant), headers=maintainer,
                                    body=json.dumps({"autoSyncCustomers": False}))):
        assert reply.status_code == 403 and error_code(reply) == "admin_required"
    anonymous = client.http.patch(settings_path(demo_tenant), headers={"Content-Type": "application/json"},
                                  body=json.dumps({"autoSyncCustomers": False}))
    assert anonymous.status_code == 401
    assert tenant_store.get(demo_tenant.tenant_key).settings.auto_sync_customers is True


def test_an_admin_of_another_tenant_cannot_touch_this_one(client, demo_tenant, make_tenant, sign_in, admin):
    other = make_tenant()
    reply = client.http.patch(settings_path(other), headers=admin, body=json.dumps({"defaultSecurityLevel": -5}))
    assert reply.status_code == 401 and error_code(reply) == "invalid_session"
    unknown = client.http.get("/api/admin/tenants/tnnosuchone/settings", headers=admin)
    assert unknown.status_code == 404 and error_code(unknown) == "tenant_not_found"


@pytest.mark.parametrize("changes, code", [
    ({}, "empty_settings"),
    ({"autoSync": True}, "unknown_setting"),
    ({"autoSyncCustomers": "yes"}, "invalid_autoSyncCustomers"),
    ({"defaultSecurityLevel": 1}, "invalid_defaultSecurityLevel"),
    ({"defaultSecurityLevel": -1000}, "invalid_defaultSecurityLevel"),
    ({"defaultSecurityLevel": "-5"}, "invalid_defaultSecurityLevel"),
    ({"customerDimensionName": ""}, "invalid_customerDimensionName"),
    ({"chainDimensionName": "长" * 33}, "invalid_chainDimensionName"),
    ({"wechatDefaultOrgName": 7}, "invalid_wechatDefaultOrgName"),
    ({"publicBaseUrl": "https://yunqiao.example.com"}, "public_base_url_placeholder"),
    ({"publicBaseUrl": "https://yq.test.invalid"}, "public_base_url_placeholder"),
    ({"publicBaseUrl": "http://yq.partner-corp.cn"}, "invalid_publicBaseUrl"),
    ({"publicBaseUrl": "javascript:alert(1)"}, "invalid_publicBaseUrl"),
    ({"publicBaseUrl": "https://yq.partner-corp.cn/?a=1"}, "invalid_publicBaseUrl"),
    ({"publicBaseUrl": "https://yq.partner-corp.cn:99999"}, "invalid_publicBaseUrl"),
    ({"publicBaseUrl": "https://yq.partner-corp.cn:0"}, "invalid_publicBaseUrl"),
    ({"externalApps": "todos"}, "invalid_apps"),
    ({"externalApps": ["todos", "chess"]}, "unknown_app"),
    ({"officialAccount": {"appId": "not-an-appid"}}, "invalid_appId"),
    ({"officialAccount": {"secret": "s3cret"}}, "invalid_appId"),
    ({"officialAccount": {"appId": "wxdemooa00000001", "templateId": "bad id!"}}, "invalid_templateId"),
    ({"officialAccount": {"appId": "wxdemooa00000001", "pin": 1}}, "invalid_officialAccount"),
    # a valid change beside a bad one: the request is refused whole, the valid part is not written either
    ({"defaultSecurityLevel": -3, "externalApps": ["chess"]}, "unknown_app"),
])
def test_bad_values_are_400_with_the_error_shape_and_change_nothing(client, demo_tenant, admin, changes, code):
    before = tenant_store.get(demo_tenant.tenant_key)
    reply = client.http.patch(settings_path(demo_tenant), headers=admin, body=json.dumps(changes))
    assert reply.status_code == 400 and error_code(reply) == code, reply.body
    assert json.loads(reply.body)["error"]["message"]
    after = tenant_store.get(demo_tenant.tenant_key)
    assert after.updated_at == before.updated_at and after.settings.default_security_level == 0
    assert body(client.http.get(settings_path(demo_tenant) + "/history", headers=admin))["entries"] == []


def test_a_body_that_is_not_a_json_object_is_400(client, demo_tenant, admin):
    for raw in ("[1, 2]", "{nope"):
        reply = client.http.patch(settings_path(demo_tenant), headers=admin, body=raw)
        assert reply.status_code == 400 and "error" in json.loads(reply.body)


def test_the_official_account_secret_goes_to_secrets_manager_and_is_never_shown(client, demo_tenant, admin):
    shown = patch(client, demo_tenant, admin, {"officialAccount": {
        "appId": "wxdemooa00000001", "secret": "demo-oa-secret-0001", "templateId": "yqDemoTpl-1"}})
    assert shown["officialAccount"] == {"appId": "wxdemooa00000001", "templateId": "yqDemoTpl-1", "secretStored": True}
    assert secrets.get(demo_tenant.secret_id)["wechat_oa_secret"] == "demo-oa-secret-0001"
    assert secrets.get(demo_tenant.secret_id)["callback_token"]  # the WeCom keys beside it are kept
    trail = client.http.get(settings_path(demo_tenant) + "/history", headers=admin).body
    assert b"demo-oa-secret-0001" not in trail and "stored" in json.loads(trail)["entries"][0]["after"].values()

    cleared = patch(client, demo_tenant, admin, {"officialAccount": {"appId": None}})
    assert cleared["officialAccount"]["appId"] is None and cleared["officialAccount"]["secretStored"] is False
    assert "wechat_oa_secret" not in secrets.get(demo_tenant.secret_id)


def test_the_operators_admin_token_may_change_settings_and_is_named_in_the_audit(client, demo_tenant):
    from dev.seed import LOCAL_ADMIN_TOKEN

    headers = {"X-Yunqiao-Admin-Token": LOCAL_ADMIN_TOKEN, "Content-Type": "application/json"}
    patch(client, demo_tenant, headers, {"defaultSecurityLevel": -1})
    [entry] = body(client.http.get(settings_path(demo_tenant) + "/history", headers=headers))["entries"]
    assert entry["actor"] == "admin-token"


def test_a_save_based_on_a_stale_read_is_409_and_writes_nothing(demo_tenant):
    from chalicelib.core.errors import Conflict
    from chalicelib.tenants import settings

    stale = tenant_store.get(demo_tenant.tenant_key)
    settings.change(tenant_store.get(demo_tenant.tenant_key), {"defaultSecurityLevel": -7}, "zhangsan")
    with pytest.raises(Conflict) as refused:
        settings.change(stale, {"defaultSecurityLevel": -9}, "lisi")
    assert refused.value.code == "settings_changed"
    assert tenant_store.get(demo_tenant.tenant_key).settings.default_security_level == -7


# --- what each setting does ------------------------------------------------------------------------------------------
@pytest.fixture
def push(simulator, app_server, demo_tenant, callbacks_queue):
    def push_event(kind: str, **ids):
        answer = simulator.control.push(kind, f"{app_server}/wecom/callback/{demo_tenant.tenant_key}", **ids)
        assert (answer["status"], answer["body"]) == (200, "success"), answer
    return push_event


def test_auto_sync_off_then_on_a_callback_creates_nothing_then_the_queued_sync_brings_the_customer_in(
        client, demo_tenant, admin, push, pump, queue):
    contact_id = contacts.customer_contact_id(CUSTOMER)
    sync_queue = queue("sync")
    patch(client, demo_tenant, admin, {"autoSyncCustomers": False})
    assert sync_queue.messages() == []  # turning it off queues nothing
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(CALLBACKS)
    assert contacts.get(demo_tenant.tenant_key, contact_id) is None

    patch(client, demo_tenant, admin, {"autoSyncCustomers": True})
    mine = [m["body"] for m in sync_queue.messages() if m["body"]["tenantKey"] == demo_tenant.tenant_key]
    assert [message["trigger"] for message in mine] == ["settings"]
    pump.drain(SYNC)
    synced = contacts.get(demo_tenant.tenant_key, contact_id)
    assert synced is not None and synced.name == "陈先生"


def test_the_default_security_level_is_given_to_contacts_created_after_it_is_set(client, demo_tenant, admin, push,
                                                                                 pump):
    patch(client, demo_tenant, admin, {"defaultSecurityLevel": -30})
    created = client.http.post("/api/directory/contacts", headers=admin, body=json.dumps({"name": "周女士"}))
    assert created.status_code == 201, created.body
    assert body(created)["securityLevel"] == -30
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(CALLBACKS)
    assert int(contacts.get(demo_tenant.tenant_key, contacts.customer_contact_id(CUSTOMER)).security_level) == -30


def test_closing_an_app_removes_its_section_from_the_home_and_its_items_answer_404(client, demo_tenant, admin, chen):
    owner = admin
    for kind, item_id in (("task", "T-1"), ("document", "D-1"), ("crm_record", "C-1")):
        register(client, owner, kind, item_id, title=f"{kind} 一")
        share(client, owner, kind, item_id, chen.contact_id)
    contact = contact_headers(demo_tenant, chen.contact_id)
    home = body(client.http.get("/api/external/home", headers=contact))
    assert {s["key"] for s in home["sections"]} == {"tasks", "approvals", "forms", "documents", "schedules", "crm"}

    every_app = [app["key"] for app in body(client.http.get(settings_path(demo_tenant), headers=admin))["externalApps"]]
    kept = [key for key in every_app if key != "documents" and not key.startswith("crm_")]
    patch(client, demo_tenant, admin, {"externalApps": kept})

    home = body(client.http.get("/api/external/home", headers=contact))
    assert [s["key"] for s in home["sections"]] == ["tasks", "approvals", "forms", "schedules"]
    assert "document" not in home["counts"] and "crm_record" not in home["latest"]
    for kind, item_id in (("document", "D-1"), ("crm_record", "C-1")):
        reply = client.http.get(f"/api/external/items/{kind}/{item_id}", headers=contact)
        assert reply.status_code == 404 and error_code(reply) == "item_not_found"
        comment = client.http.post(f"/api/external/items/{kind}/{item_id}/comments", headers=contact,
                                   body=json.dumps({"text": "还在吗"}))
        assert comment.status_code == 404
    listed = client.http.get("/api/external/items?section=documents", headers=contact)
    assert listed.status_code == 404 and error_code(listed) == "app_closed"
    assert client.http.get("/api/external/items/task/T-1", headers=contact).status_code == 200

    patch(client, demo_tenant, admin, {"externalApps": every_app})  # re-opened: shown again, nothing was lost
    assert client.http.get("/api/external/items/document/D-1", headers=contact).status_code == 200
    home = body(client.http.get("/api/external/home", headers=contact))
    assert home["counts"]["document"] == 1 and home["counts"]["crm_record"] == 1


# --- the ops CLI -----------------------------------------------------------------------------------------------------
def test_ops_shows_and_sets_settings_and_names_the_first_admin(tmp_path, simulator):
    from chalicelib.store import roles
    from tests.integration.test_ops_cli import run_ops

    corp = json.loads(DEMO.read_text(encoding="utf-8"))["corps"][0]
    secret = {s["kind"]: s for s in corp["secrets"]}
    wecom_secrets = {"contacts_secret": secret["contacts"]["secret"], "customer_secret": secret["externalcontact"]["secret"],
                     "app_secret": secret["app"]["secret"], "callback_token": corp["callback"]["token"],
                     "callback_aes_key": corp["callback"]["encoding_aes_key"]}
    wrong = run_ops("tenants", "create", "--name", "设置团队", "--corp-id", corp["corpid"], "--agent-id", "1000002",
                    "--secrets-file", "-", "--tenant-key", "tnopsset00", "--admin", "zhangsan",
                    stdin=json.dumps(dict(wecom_secrets, contacts_secret="wrong", app_secret="wrong")))
    assert wrong.returncode == 2 and "could not be made its admin" in wrong.stderr and "Traceback" not in wrong.stderr

    created = run_ops("tenants", "create", "--name", "设置团队", "--corp-id", corp["corpid"],
                      "--agent-id", str(secret["app"]["agentid"]), "--secrets-file", "-", "--tenant-key", "tnopsset01",
                      "--admin", "zhangsan", stdin=json.dumps(wecom_secrets))
    assert created.returncode == 0, created.stderr
    assert roles.holders("tnopsset01", roles.ADMIN) == ["zhangsan"]

    changed = run_ops("tenants", "settings", "tnopsset01", "--set", "autoSyncCustomers=true",
                      "--set", "defaultSecurityLevel=-12", "--set", "wechatDefaultOrgName=微信散客")
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(run_ops("tenants", "settings", "tnopsset01").stdout)
    assert (shown["autoSyncCustomers"], shown["defaultSecurityLevel"], shown["wechatDefaultOrgName"]) == (
        True, -12, "微信散客")

    refused = run_ops("tenants", "settings", "tnopsset01", "--set", "publicBaseUrl=https://yunqiao.example.com")
    assert refused.returncode == 2 and "public_base_url_placeholder" in refused.stderr
    nobody = run_ops("tenants", "add-admin", "tnopsset01", "nosuchmember")
    assert nobody.returncode == 2 and "member_not_found" in nobody.stderr
