"""The admin console (设置, 企业微信) in headless Chromium at phone (390×844) and desktop (1280×800) sizes, against the
app under `chalice local`, the emulator and the WeCom simulator: every change made by clicking, then checked where
it acts. Screenshots land in build/screenshots/<test>/; the reference set is copied to docs/screenshots/adm-NN-*.png.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.core import config
from chalicelib.store import contacts, roles
from chalicelib.store import tenants as tenant_store
from tests.browser.workspace_support import signed_in, workspace_url
from tests.integration.conftest import chen, pump, queue  # noqa: F401

pytestmark = pytest.mark.browser
SETTINGS, WECOM = "/admin/console/settings", "/admin/console/wecom"
CUSTOMER = "wmYQdemoa9f7e97965d6cf799a529102"  # 陈先生, followed by zhangsan and lisi


KEPT_AS = "adm"  # the reference screenshots this module keeps in docs/screenshots/


@pytest.fixture
def admin_page(pages, app_server, demo_tenant, sign_in):
    def open_as(desktop: bool, path: str = SETTINGS, user_id: str = "zhangsan", roles_held=("admin",)):
        page = pages(desktop=desktop)
        signed_in(page, demo_tenant, sign_in(demo_tenant, user_id, roles=roles_held))
        page.goto(workspace_url(app_server, demo_tenant, path))
        return page
    return open_as


def test_an_admin_changes_the_settings_by_clicking_and_reads_the_change_history(admin_page, demo_tenant, snap,
                                                                               queue):
    sync_queue = queue("sync")
    desk = admin_page(desktop=True)
    desk.locator("#settings-form").wait_for()
    assert desk.locator("#f-autoSyncCustomers").is_checked()
    assert desk.locator(".ws-nav a.on").inner_text() == "设置"
    snap(desk, "settings", "01-settings-desktop", full_page=True)

    desk.uncheck("#f-autoSyncCustomers")
    desk.fill("#f-defaultSecurityLevel", "-15")
    desk.fill("#f-wechatDefaultOrgName", "个人微信客户")
    desk.uncheck("#f-app-documents")
    desk.click("#save-settings")
    desk.locator("#settings-form .form-message.ok").wait_for()
    assert "已保存" in desk.locator("#settings-form .form-message").inner_text()
    desk.locator("#settings-history .adm-change").first.wait_for()
    history = desk.locator("#settings-history").inner_text()
    assert "zhangsan" in history and "新联系人默认安全级别：0 → -15" in history and "自动同步企业微信客户：开启 → 关闭" in history
    assert "外部用户可用应用：关闭 文档" in history
    stored = tenant_store.get(demo_tenant.tenant_key).settings
    assert (stored.auto_sync_customers, stored.default_security_level, stored.wechat_default_org_name) == (
        False, -15, "个人微信客户")
    snap(desk, "saved", "02-settings-saved-desktop", full_page=True)

    desk.fill("#f-publicBaseUrl", "https://yunqiao.example.com")
    desk.click("#save-settings")
    desk.locator("#settings-form .form-message.error").wait_for()
    assert "示例域名" in desk.locator("#settings-form .form-message").inner_text()
    snap(desk, "refused", "03-settings-refused-desktop")
    assert tenant_store.get(demo_tenant.tenant_key).settings.public_base_url != "https://yunqiao.example.com"

    desk.fill("#f-publicBaseUrl", "")
    desk.check("#f-autoSyncCustomers")
    desk.click("#save-settings")
    desk.locator("#settings-form .form-message.ok").wait_for()
    assert "正在同步" in desk.locator("#settings-form .form-message").inner_text()
    assert [m["body"]["trigger"] for m in sync_queue.messages()
            if m["body"]["tenantKey"] == demo_tenant.tenant_key] == ["settings"]


def test_admins_manage_the_role_lists_on_a_phone(admin_page, demo_tenant, snap):
    phone = admin_page(desktop=False)
    phone.locator("[data-role=admin] [data-holder=zhangsan]").wait_for()
    snap(phone, "settings-phone", "04-settings-phone")
    form = phone.locator("[data-role-form=directory_maintainer]")
    form.locator("input").fill("lisi")
    form.locator("button").click()
    phone.locator("[data-role=directory_maintainer] [data-holder=lisi]").wait_for()
    assert "lisi" in roles.holders(demo_tenant.tenant_key, roles.DIRECTORY_MAINTAINER)

    form.locator("input").fill("nobody-here")
    form.locator("button").click()
    form.locator(".form-message.error").wait_for()
    assert "没有这个成员" in form.locator(".form-message").inner_text()

    phone.locator("[data-role=admin] [data-holder=zhangsan] button").click()
    phone.locator("[data-role=admin] .form-message.error").wait_for()
    assert "不能移除自己的管理员身份" in phone.locator("[data-role=admin]").inner_text()
    phone.locator("#roles").scroll_into_view_if_needed()
    snap(phone, "roles-phone", "05-roles-phone")


def test_a_member_who_is_not_an_admin_sees_no_console_and_a_sentence_if_they_open_it(admin_page, snap):
    member = admin_page(desktop=False, user_id="lisi", roles_held=())
    member.locator("[data-state=empty]").wait_for()
    assert "只有管理员" in member.locator("[data-state=empty]").inner_text()
    assert member.locator("[data-console]").count() == 0
    snap(member, "not-admin", "06-not-admin-phone")


def test_the_wecom_page_runs_a_sync_and_a_link_run_and_shows_their_results(admin_page, demo_tenant, pump, snap,
                                                                            queue):
    queue("sync")
    queue("profile-links")
    desk = admin_page(desktop=True, path=WECOM)
    desk.locator("#sync-runs").wait_for()
    desk.locator("#manual-url").wait_for()
    assert "/mobile/wechat/external/home" in desk.locator("#manual-url").input_value()
    desk.click("#sync-now")
    desk.locator("#sync-form .form-message.ok").wait_for()
    pump.drain(config.resource_name("sync"))
    assert contacts.get(demo_tenant.tenant_key, contacts.customer_contact_id(CUSTOMER)) is not None

    desk.click("#links-rerun")
    desk.locator("#links-form .form-message.ok").wait_for()
    pump.drain(config.resource_name("profile-links"))
    desk.reload()
    run = desk.locator("#sync-runs [data-run]").first
    run.wait_for()
    assert "手动同步 · 成功" in run.inner_text() and "客户：新增" in run.inner_text()
    desk.locator("#link-progress [data-count=linked]").wait_for()
    linked = desk.locator("#link-progress [data-count=linked] .ws-value").inner_text()
    assert int(linked) > 0
    snap(desk, "wecom", "07-wecom-desktop", full_page=True)

    desk.click("#sync-now")  # a run just finished: a new one starts
    desk.locator("#sync-form .form-message.ok").wait_for()
    desk.click("#sync-now")  # and another while it is queued: refused with a sentence
    desk.locator("#sync-form .form-message.error").wait_for()
    assert "已有一次同步正在进行" in desk.locator("#sync-form .form-message").inner_text()
    pump.drain(config.resource_name("sync"))

    phone = admin_page(desktop=False, path=WECOM)
    phone.locator("#sync-runs [data-run]").first.wait_for()
    phone.locator("#link-progress [data-count=linked]").wait_for()
    snap(phone, "wecom-phone", "08-wecom-phone", full_page=True)


def test_closing_an_app_in_the_console_changes_the_contacts_home(admin_page, pages, app_server, demo_tenant, chen,
                                                                  client, sign_in, snap):
    from tests.integration.sharing_support import contact_headers, register, share

    owner = sign_in(demo_tenant, "zhangsan")
    for kind, item_id, title in (("document", "D-1", "合作协议"), ("task", "T-1", "确认报价")):
        register(client, owner, kind, item_id, title=title)
        share(client, owner, kind, item_id, chen.contact_id)
    token = contact_headers(demo_tenant, chen.contact_id)["Authorization"].split(" ", 1)[1]
    contact = pages(desktop=False)
    contact.add_init_script(f"sessionStorage.setItem({json.dumps('yq.token.' + demo_tenant.tenant_key)}, "
                            f"{json.dumps(token)})")
    home = f"{app_server}/mobile/wechat/external/home?tenantKey={demo_tenant.tenant_key}"
    contact.goto(home)
    contact.locator("[data-block=documents]").wait_for()
    snap(contact, "home-with-documents", "09-home-before-phone")

    desk = admin_page(desktop=True)
    desk.locator("#settings-form").wait_for()
    desk.uncheck("#f-app-documents")
    desk.click("#save-settings")
    desk.locator("#settings-form .form-message.ok").wait_for()

    contact.reload()
    contact.locator("[data-block=tasks]").wait_for()
    assert contact.locator("[data-section=documents]").count() == 0 and "合作协议" not in contact.content()
    snap(contact, "home-without-documents", "10-home-app-closed-phone")


TREE = "/admin/console/directory"


def test_a_maintainer_keeps_the_tree_by_clicking_with_refusals_as_sentences(admin_page, demo_tenant, snap, simulator):
    from chalicelib.directory import customers
    from chalicelib.store import organisations
    from chalicelib.tenants.wecom_clients import client_for_tenant

    for external_userid in (CUSTOMER, "wmYQdemocb7524d792327e4c443d619d"):
        customers.refresh(demo_tenant, client_for_tenant(demo_tenant), external_userid)
    desk = admin_page(desktop=True, path=TREE, user_id="lisi", roles_held=("directory_maintainer",))
    desk.on("dialog", lambda dialog: dialog.accept())
    desk.locator("#tree-children").wait_for()
    assert [a.get_attribute("data-console") for a in desk.locator("[data-console]").all()] == [TREE, "/admin/console/accounts"]
    desk.fill("#f-new-node", "合作伙伴")
    desk.click("#new-node-form button")
    desk.locator("[data-node^=dim-]").wait_for()
    desk.fill("#f-new-node", "渠道")
    desk.click("#new-node-form button")
    desk.locator("[data-node^=dim-]").nth(1).wait_for()
    desk.locator("[data-node^=dim-]", has_text="合作伙伴").click()
    desk.fill("#f-new-node", "星河贸易")
    desk.click("#new-node-form button")
    desk.locator("[data-node^=org-]", has_text="星河贸易").click()
    desk.fill("#f-new-node", "采购部")
    desk.click("#new-node-form button")
    desk.locator("[data-node^=dep-]", has_text="采购部").wait_for()
    desk.fill("#f-rename", "星河贸易集团")
    desk.click("#rename-form button")
    desk.locator(".adm-trail", has_text="星河贸易集团").wait_for()
    desk.click("#delete-node")
    desk.locator("#delete-form .form-message.error").wait_for()
    assert "还有组织、部门或联系人" in desk.locator("#delete-form").inner_text()
    snap(desk, "tree-refused", "11-tree-refused-desktop", full_page=True)

    target = desk.locator("#f-move option", has_text="渠道").get_attribute("value")
    desk.select_option("#f-move", label="渠道")
    desk.click("#move-form button")
    desk.locator(f"#tree-up[href*='{target}']").click()  # the view, rebuilt, now goes up to 渠道
    desk.locator(".adm-trail", has_text="渠道").wait_for()
    assert "星河贸易集团" in desk.locator("#tree-children").inner_text()
    desk.fill("#f-maintainer", "wangwu")
    desk.click("#maintainer-form button")
    desk.locator("[data-maintainer=wangwu]").wait_for()

    desk.click("#tree-root")
    desk.locator(f"[data-node='{organisations.CUSTOMER_DIMENSION_ID}']").click()
    synced = desk.locator("[data-node]").first
    synced.wait_for()
    assert "企业微信同步 · 只读" in synced.inner_text()
    synced.click()
    desk.locator("#node-contacts [data-contact]").first.wait_for()
    filed = desk.locator("#node-contacts [data-contact]").count()
    assert f"{filed} 位联系人" in desk.locator("#node-counts").inner_text() and filed > 0
    assert desk.locator("#node-edit").count() == 0  # a synced organisation: nothing to rename, move or delete
    snap(desk, "tree-synced", "12-tree-synced-organisation-desktop", full_page=True)

    phone = admin_page(desktop=False, path=TREE)
    phone.locator("#tree-children").wait_for()
    snap(phone, "tree-phone", "13-tree-phone", full_page=True)


ACCOUNTS = "/admin/console/accounts"


def test_account_security_lists_applications_with_filters_and_manages_an_account(admin_page, demo_tenant, client,
                                                                                sign_in, snap):
    lisi = sign_in(demo_tenant, "lisi")
    made = []
    for name in ("刘经理", "郑总"):
        created = client.http.post("/api/directory/contacts", headers=lisi, body=json.dumps({"name": name}))
        assert created.status_code == 201, created.body
        made.append(json.loads(created.body)["contactId"])
    applied = client.http.post(f"/api/directory/contacts/{made[0]}/account-applications", headers=lisi,
                               body=json.dumps({"remark": "需要查看项目"}))
    assert applied.status_code == 201, applied.body

    desk = admin_page(desktop=True, path=ACCOUNTS)
    desk.on("dialog", lambda dialog: dialog.accept())
    desk.locator("[data-application]").first.wait_for()
    assert "刘经理" in desk.locator("#applications").inner_text() and "审批中" in desk.locator("#applications").inner_text()
    desk.select_option("#f-status", "rejected")
    desk.click("#filters button")
    desk.locator("[data-state=empty]").wait_for()
    assert "status=rejected" in desk.url
    desk.select_option("#f-status", "pending")
    desk.fill("#f-applicant", "lisi")
    desk.click("#filters button")
    desk.locator("[data-application]").first.wait_for()
    snap(desk, "accounts", "14-accounts-desktop")

    desk.goto(desk.url.split("?")[0] + f"?tenantKey={demo_tenant.tenant_key}&contact={made[1]}")
    desk.locator("#assign-form").wait_for()
    desk.click("#assign-form button")
    desk.locator("#activation-url").wait_for()
    first_link = desk.locator("#activation-url").input_value()
    assert "/mobile/wechat/external/" in first_link
    assert "待激活" in desk.locator("#account-status").inner_text()
    desk.click("#reset-form button")
    desk.wait_for_function("old => { const f = document.getElementById('activation-url'); return f && f.value !== old; }",
                           arg=first_link)
    desk.click("#disable-form button")
    desk.locator("#enable-form").wait_for()
    assert "已停用" in desk.locator("#account-status").inner_text()
    snap(desk, "account-disabled", "15-account-disabled-desktop")
    desk.click("#enable-form button")
    desk.locator("#disable-form").wait_for()
    actions = [e["action"] for e in json.loads(client.http.get(f"/api/directory/contacts/{made[1]}/audit",
                                                                headers=sign_in(demo_tenant, "zhangsan")).body)["entries"]]
    assert {"account_assigned", "account_reset", "account_disabled", "account_enabled"} <= set(actions)

    phone = admin_page(desktop=False, path=ACCOUNTS, user_id="wangwu", roles_held=("directory_maintainer",))
    phone.locator("[data-application]").first.wait_for()
    phone.locator(f"[data-manage='{made[0]}']").click()
    phone.locator("#assign-form").wait_for()
    snap(phone, "account-phone", "16-account-phone")
