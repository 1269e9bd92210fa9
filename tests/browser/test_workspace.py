"""The members' workspace (外部互联) end to end in headless Chromium, at phone (390×844) and desktop (1280×800) sizes,
against the app under `chalice local`, the emulator and the WeCom simulator (which also plays WeCom's sign-in pages).

Each flow is done by clicking, as a member would; the WeCom cards Yunqiao sends are read back from the simulator's
message log and their links opened. Screenshots land in build/screenshots/<test>/; the reference set is copied to
docs/screenshots/ws-NN-*.png.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.conftest import pump, queue  # noqa: F401
from tests.browser.workspace_support import (
    WECOM_PHONE_UA,
    card_links,
    signed_in,
    workspace_url,
)

pytestmark = pytest.mark.browser
KEPT_AS = "ws"  # the reference screenshots this module keeps in docs/screenshots/


def test_qr_login_on_a_desktop_browser_lands_on_the_deep_link_and_forwards_the_state(pages, app_server, demo_tenant,
                                                                                     snap):
    desk = pages(desktop=True)
    sent = []
    desk.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/auth/wecom/session") else None)
    desk.goto(workspace_url(app_server, demo_tenant, "/admin/account-applications"))
    desk.locator("#login-form").wait_for()
    snap(desk, "sign-in", "01-sign-in-desktop")
    desk.click("#qr-login")
    desk.wait_for_url("**/wwlogin/sso/login?**")
    asked = parse_qs(urlsplit(desk.url).query)
    assert asked["login_type"] == ["CorpApp"] and asked["appid"] == [demo_tenant.corp_id]
    snap(desk, "qr-page", "02-qr-login-simulator")
    desk.click("[data-userid=zhangsan]")
    desk.locator(".ws-nav a.on").wait_for()
    desk.locator("[data-state=empty]").wait_for()
    assert urlsplit(desk.url).path == "/admin/account-applications"
    assert "code=" not in desk.url and "state=" not in desk.url
    assert "张三" in desk.locator(".ws-who").inner_text()
    assert sent == [{"tenantKey": demo_tenant.tenant_key, "code": sent[0]["code"], "state": asked["state"][0]}]
    snap(desk, "landed", "03-signed-in-deep-link-desktop")


# --- helpers over the JSON API (setting the scene quickly; the flows under test are clicked) ----------------------------
def api(client, method: str, path: str, headers: dict, body: dict | None = None, expect: int | None = None) -> dict:
    reply = getattr(client.http, method)(path, headers=headers, **({"body": json.dumps(body)} if body is not None else {}))
    if expect is not None:
        assert reply.status_code == expect, reply.body
    return json.loads(reply.body) if reply.body else {}


def tabs_of(page) -> list[str]:
    page.locator("[data-tab]").first.wait_for()
    return page.locator("[data-tab]").all_inner_texts()


NOTIFICATIONS = "notifications"


def test_inside_wecom_oauth_opens_the_card_and_each_member_is_offered_only_what_they_may_do(
        pages, app_server, client, demo_tenant, sign_in, snap):
    lisi = sign_in(demo_tenant, "lisi")
    wangwu = sign_in(demo_tenant, "wangwu")
    zhaoliu = sign_in(demo_tenant, "zhaoliu", roles=("directory_maintainer",))
    contact = api(client, "post", "/api/directory/contacts", lisi,
                  {"name": "周女士", "mobile": "13800001234", "position": "采购经理", "remark": "展会上认识"}, 201)
    card = f"/directory/contacts/{contact['contactId']}"
    api(client, "put", f"/api/directory/contacts/{contact['contactId']}/share-list", lisi,
        {"shareList": {"wangwu": {"permission": "view"}}}, 200)

    adder = pages(user_agent=WECOM_PHONE_UA)  # inside the WeCom client: no sign-in screen, straight to OAuth
    adder.goto(workspace_url(app_server, demo_tenant, card))
    adder.wait_for_url("**/connect/oauth2/authorize?**")
    snap(adder, "oauth", "04-oauth-in-wecom-simulator-phone")
    adder.click("[data-userid=lisi]")
    adder.locator("#basic-values").wait_for()
    assert urlsplit(adder.url).path == card
    assert tabs_of(adder) == ["基本信息", "权限设置", "账号信息", "共享", "动态"]
    snap(adder, "card-adder", "05-card-adder-phone")
    adder.click("#edit-basic")
    adder.fill("#f-mobile", "12345")
    adder.click("#edit-form button[type=submit]")
    adder.get_by_text("手机号格式不正确。").wait_for()
    snap(adder, "refusal-as-a-sentence", "06-card-refusal-sentence-phone")
    adder.fill("#f-mobile", "13900002222")
    adder.click("#edit-form button[type=submit]")
    adder.locator("#basic-values", has_text="13900002222").wait_for()
    adder.click("[data-tab=sharing]")
    adder.fill("#f-shareUser", "nosuchmember")
    adder.click("#share-add")
    adder.click("#share-save")
    adder.get_by_text("没有这个成员", exact=False).wait_for()

    sharer = pages(desktop=True)
    signed_in(sharer, demo_tenant, wangwu)
    sharer.goto(workspace_url(app_server, demo_tenant, card))
    sharer.locator("#basic-values").wait_for()
    assert tabs_of(sharer) == ["基本信息", "权限设置", "共享"]
    assert sharer.locator("#edit-basic, #delete-contact").count() == 0
    snap(sharer, "card-view-only", "07-card-view-only-sharer-desktop")
    sharer.click("[data-tab=sharing]")
    sharer.locator("#share-list", has_text="仅查看").wait_for()
    assert sharer.locator("#share-save, #share-add").count() == 0
    sharer.goto(workspace_url(app_server, demo_tenant, card, tab="account"))  # asked for by address: not offered
    assert tabs_of(sharer) == ["基本信息", "权限设置", "共享"]
    assert sharer.locator("#account-status").count() == 0

    maintainer = pages()
    signed_in(maintainer, demo_tenant, zhaoliu)
    maintainer.goto(workspace_url(app_server, demo_tenant, card, tab="activity"))
    maintainer.locator("#activity [data-action=edit]").wait_for()
    assert tabs_of(maintainer) == ["基本信息", "权限设置", "账号信息", "共享", "动态"]
    assert "13800001234 → 13900002222" in maintainer.locator("#activity").inner_text()
    snap(maintainer, "card-maintainer-activity", "08-card-maintainer-activity-phone")
    maintainer.click("[data-tab=permissions]")
    maintainer.fill("#f-securityLevel", "-5")
    drawn = maintainer.locator("#level-form").element_handle()
    maintainer.click("#level-form button[type=submit]")
    maintainer.wait_for_function("form => !form.isConnected", arg=drawn)  # saved, and the card drawn again
    assert maintainer.locator("#f-securityLevel").input_value() == "-5"


def test_the_list_groups_by_organisation_searches_loads_more_and_shows_empty_and_error_states(
        pages, app_server, client, demo_tenant, sign_in, snap):
    zhaoliu = sign_in(demo_tenant, "zhaoliu", roles=("directory_maintainer",))
    lisi = sign_in(demo_tenant, "lisi")
    dimension = api(client, "post", "/api/directory/nodes", zhaoliu, {"kind": "dimension", "name": "华东客户"}, 201)
    organisations = [api(client, "post", "/api/directory/nodes", zhaoliu,
                         {"kind": "organisation", "name": name, "parentId": dimension["nodeId"]}, 201)
                     for name in ("星河科技", "远山贸易")]
    for n in range(24):
        org = organisations[n % 2]
        api(client, "post", "/api/directory/contacts", lisi,
            {"name": f"客户{n:02d}", "mobile": f"139000000{n:02d}", "position": "采购",
             "organisationId": org["nodeId"]}, 201)

    empty = pages()
    signed_in(empty, demo_tenant, sign_in(demo_tenant, "wujiu"))
    empty.goto(workspace_url(app_server, demo_tenant))
    empty.locator("[data-state=empty]").wait_for()
    assert "还没有外部联系人" in empty.locator("[data-state=empty]").inner_text()
    snap(empty, "empty", "09-list-empty-phone")

    phone = pages()
    signed_in(phone, demo_tenant, lisi)
    phone.goto(workspace_url(app_server, demo_tenant))
    phone.locator("[data-contact]").first.wait_for()
    assert phone.locator("[data-contact]").count() == 20
    first_page = set(phone.locator("[data-contact] .ws-name").all_inner_texts())
    assert phone.locator(".ws-group").all_inner_texts() in (["星河科技", "远山贸易"], ["远山贸易", "星河科技"])
    snap(phone, "list", "10-list-phone")
    phone.click("#load-more")
    phone.locator("[data-contact]").nth(23).wait_for()
    assert phone.locator("#load-more").is_hidden()
    assert len(phone.locator(".ws-group").all_inner_texts()) == 2  # a group continued on the next page stays one
    phone.fill("#f-q", "13900000007")
    phone.press("#f-q", "Enter")
    phone.locator("[data-contact]", has_text="客户07").wait_for()
    assert phone.locator("[data-contact]").count() == 1
    # A search reads the list a page at a time: one whose match lies past the first page still finds it.
    later = sorted({f"客户{n:02d}" for n in range(24)} - first_page)[0]
    phone.fill("#f-q", f"139000000{later[-2:]}")
    phone.press("#f-q", "Enter")
    phone.locator("[data-contact]", has_text=later).wait_for()
    assert phone.locator("[data-contact]").count() == 1
    snap(phone, "search", "11-list-search-phone")
    phone.fill("#f-q", "没有这个人")
    phone.press("#f-q", "Enter")
    phone.locator("[data-state=empty]").wait_for()
    assert "没有找到「没有这个人」" in phone.locator("[data-state=empty]").inner_text()

    desk = pages(desktop=True)
    signed_in(desk, demo_tenant, lisi)
    desk.goto(workspace_url(app_server, demo_tenant))
    desk.locator("[data-contact]").first.wait_for()
    snap(desk, "list-desktop", "12-list-desktop")
    desk.route("**/api/directory/contacts?**", lambda route: route.abort("internetdisconnected"))
    desk.reload()
    desk.locator("[data-state=error]").wait_for()
    assert "网络连接失败" in desk.locator("[data-state=error]").inner_text()
    snap(desk, "error", "13-list-network-error-desktop")
    desk.unroute("**/api/directory/contacts?**")
    desk.get_by_role("button", name="重试").click()
    desk.locator("[data-contact]").first.wait_for()


def test_create_and_apply_then_the_approver_opens_the_cards_link_and_approves_and_a_second_sees_it_decided(
        pages, app_server, client, demo_tenant, sign_in, simulator, pump, queue, snap):
    from chalicelib.core import config

    queue(NOTIFICATIONS)
    zhangsan = sign_in(demo_tenant, "zhangsan", roles=("directory_maintainer",))
    zhaoliu = sign_in(demo_tenant, "zhaoliu", roles=("directory_maintainer",))
    lisi = sign_in(demo_tenant, "lisi")

    applicant = pages()
    signed_in(applicant, demo_tenant, lisi)
    applicant.goto(workspace_url(app_server, demo_tenant))
    applicant.click("#add-manual")
    applicant.locator("#create-form").wait_for()
    applicant.fill("#f-name", "陈经理")
    applicant.fill("#f-mobile", "13700001111")
    applicant.fill("#f-position", "市场总监")
    snap(applicant, "new-contact", "14-new-contact-phone")
    applicant.click("#create-form button[type=submit]")
    applicant.locator("#basic-values", has_text="陈经理").wait_for()
    contact_id = urlsplit(applicant.url).path.rsplit("/", 1)[-1]
    applicant.click("[data-tab=account]")
    applicant.locator("#apply-form").wait_for()
    applicant.fill("#f-apply-remark", "需要查看项目进度")
    applicant.click("#apply-form button[type=submit]")
    applicant.locator("#account-status", has_text="审批中").wait_for()
    applicant.locator("#open-application").wait_for()
    snap(applicant, "applied", "15-applied-pending-phone")

    pump.drain(config.resource_name(NOTIFICATIONS))
    [(title, link)] = card_links(simulator, "zhangsan", config.public_base_url(), app_server)
    assert title == "外部账号开通申请待审批"
    assert urlsplit(link).path.startswith("/admin/account-applications/")
    approver = pages(desktop=True)
    signed_in(approver, demo_tenant, zhangsan)
    approver.goto(link)
    approver.locator("#approve-form").wait_for()
    assert "陈经理" in approver.locator("#application").inner_text()
    snap(approver, "approver-opens-link", "16-approver-opens-card-link-desktop")
    approver.click("#approve-form button[type=submit]")
    approver.locator("#activation-link").wait_for()
    assert approver.locator("#application-status").get_attribute("data-status") == "approved"
    assert "#activate=" in approver.locator("#activation-link").input_value()
    assert approver.locator("#application-account").inner_text().strip()
    snap(approver, "approved", "17-approved-activation-link-desktop")

    second = pages()
    signed_in(second, demo_tenant, zhaoliu)
    second.goto(link)
    second.locator("#application-status[data-status=approved]").wait_for()
    assert second.locator("#decide, #approve-form, #reject-form").count() == 0
    assert "张三" in second.locator("#application").inner_text()
    snap(second, "second-approver", "18-second-approver-sees-decided-phone")

    pump.drain(config.resource_name(NOTIFICATIONS))
    [(title, back)] = card_links(simulator, "lisi", config.public_base_url(), app_server)
    assert title == "外部账号开通申请已通过"
    applicant.goto(back)
    applicant.locator("#application-status[data-status=approved]").wait_for()
    applicant.click("#open-contact")
    applicant.locator("[data-tab=account]").click()
    applicant.locator("#account-status", has_text="已开通").wait_for()
    assert contact_id in applicant.url


def test_reject_with_a_reason_then_the_applicant_reads_it_and_applies_again(
        pages, app_server, client, demo_tenant, sign_in, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan", roles=("directory_maintainer",))
    lisi = sign_in(demo_tenant, "lisi")
    contact = api(client, "post", "/api/directory/contacts", lisi, {"name": "吴先生"}, 201)
    api(client, "post", f"/api/directory/contacts/{contact['contactId']}/account-applications", lisi,
        {"remark": "合作伙伴"}, 201)

    approver = pages()
    signed_in(approver, demo_tenant, zhangsan)
    approver.goto(workspace_url(app_server, demo_tenant, "/admin/account-applications"))
    row = approver.locator("[data-application]", has_text="吴先生")
    row.wait_for()
    snap(approver, "inbox", "19-inbox-pending-phone")
    row.click()
    approver.locator("#reject-form").wait_for()
    approver.click("#reject-form button[type=submit]")
    approver.get_by_text("请填写驳回原因").wait_for()
    approver.fill("#f-reason", "请先补充联系人的手机号")
    approver.click("#reject-form button[type=submit]")
    approver.locator("#application-status[data-status=rejected]").wait_for()
    assert approver.locator("#application-reason").inner_text().strip().endswith("请先补充联系人的手机号")
    snap(approver, "rejected", "20-rejected-with-reason-phone")

    applicant = pages(desktop=True)
    signed_in(applicant, demo_tenant, lisi)
    applicant.goto(workspace_url(app_server, demo_tenant, f"/directory/contacts/{contact['contactId']}", tab="account"))
    applicant.locator("#rejected-reason").wait_for()
    assert "请先补充联系人的手机号" in applicant.locator("#rejected-reason").inner_text()
    snap(applicant, "reason-shown", "21-applicant-sees-reason-desktop")
    applicant.fill("#f-apply-remark", "已补充手机号")
    applicant.click("#apply-form button[type=submit]")
    applicant.locator("#account-status", has_text="审批中").wait_for()
    applicant.goto(workspace_url(app_server, demo_tenant, "/admin/account-applications"))
    applicant.locator("[data-application]").nth(1).wait_for()
    assert [t.split("\n")[0] for t in applicant.locator("[data-application] .ws-name").all_inner_texts()] == ["吴先生", "吴先生"]
    snap(applicant, "my-applications", "22-my-applications-desktop")


def test_a_wechat_invitation_shows_its_link_and_qr_and_the_friend_accepts(
        pages, app_server, demo_tenant, sign_in, simulator, pump, queue, snap):
    from chalicelib.core import config

    queue(NOTIFICATIONS)
    lisi = sign_in(demo_tenant, "lisi")
    member = pages()
    signed_in(member, demo_tenant, lisi)
    member.goto(workspace_url(app_server, demo_tenant))
    member.click("#add-wechat")
    member.fill("#f-note", "展会上认识的")
    member.click("#wechat-form button[type=submit]")
    member.locator("#invitation-link").wait_for()
    member.wait_for_function("() => (document.getElementById('invitation-qr') || {}).naturalWidth > 0")
    link = member.locator("#invitation-link").input_value()
    assert link.startswith(config.public_base_url() + "/mobile/wechat/external/invite?")
    snap(member, "wechat-invitation", "23-wechat-invitation-link-qr-phone", full_page=True)

    friend = pages()
    friend.goto(link.replace(config.public_base_url(), app_server))
    friend.fill("#accept-form input[name=name]", "郑女士")
    friend.click("#accept-form button[type=submit]")
    friend.locator("[data-state=empty]", has_text="已接受邀请").wait_for()

    member.reload()
    member.locator("[data-invitation]", has_text="已接受").wait_for()
    snap(member, "accepted", "24-wechat-invitation-accepted-phone")
    pump.drain(config.resource_name(NOTIFICATIONS))
    [(_, card)] = card_links(simulator, "lisi", config.public_base_url(), app_server)
    member.goto(card)
    member.locator("#basic-values", has_text="郑女士").wait_for()


def _other_organisation(name: str):
    """Another tenant on the simulator's demo corp (the same members), as the team on the other side."""
    from chalicelib.core import config
    from chalicelib.tenants import onboarding
    from dev.seed import _secret_of
    from tests.browser.conftest import ROOT

    corp = json.loads((ROOT / "dev" / "scenarios" / "demo.json").read_text(encoding="utf-8"))["corps"][0]
    return onboarding.create_self_built(
        name=name, corp_id=corp["corpid"], agent_id=str(_secret_of(corp, "app")["agentid"]),
        public_base_url=config.public_base_url(),
        wecom_secrets={"contacts_secret": _secret_of(corp, "contacts")["secret"],
                       "customer_secret": _secret_of(corp, "externalcontact")["secret"],
                       "app_secret": _secret_of(corp, "app")["secret"],
                       "callback_token": corp["callback"]["token"],
                       "callback_aes_key": corp["callback"]["encoding_aes_key"]})


def test_an_other_organisation_invitation_found_by_the_typed_name_is_accepted_on_the_other_side(
        pages, app_server, demo_tenant, sign_in, simulator, pump, queue, snap):
    from chalicelib.core import config

    queue(NOTIFICATIONS)
    short = f"远山贸易{demo_tenant.tenant_key[2:]}"
    peer = _other_organisation(short)
    peer_wangwu = sign_in(peer, "wangwu")  # signing in is how Yunqiao learns a member's name
    lisi = sign_in(demo_tenant, "lisi")

    inviter = pages(desktop=True)
    signed_in(inviter, demo_tenant, lisi)
    inviter.goto(workspace_url(app_server, demo_tenant))
    inviter.click("#add-organisation")
    inviter.fill("#f-organisation", f" {short.upper()} 有限公司")  # the full name, other case, stray spaces
    inviter.fill("#f-value", "王 五")
    inviter.click("#org-search-form button[type=submit]")
    inviter.locator("[data-candidate]", has_text="王五").wait_for()
    inviter.fill("#f-note", "上次会议提到的合作")
    snap(inviter, "org-search", "25-other-organisation-search-desktop")
    inviter.locator("[data-candidate] button").click()
    inviter.get_by_text("已发送邀请").wait_for()

    pump.drain(config.resource_name(NOTIFICATIONS))
    [(title, link)] = [c for c in card_links(simulator, "wangwu", config.public_base_url(), app_server)
                       if c[0] == "外部组织成员邀请"]
    assert parse_qs(urlsplit(link).query)["tenantKey"] == [peer.tenant_key]
    invitee = pages()
    signed_in(invitee, peer, peer_wangwu)
    invitee.goto(link)
    pending = invitee.locator("[data-invitation]", has_text="李四")
    pending.wait_for()
    snap(invitee, "incoming", "26-other-organisation-incoming-phone")
    pending.get_by_role("button", name="接受").click()
    invitee.locator("#incoming [data-invitation]", has_text="已接受").wait_for()
    snap(invitee, "accepted", "27-other-organisation-accepted-phone")

    pump.drain(config.resource_name(NOTIFICATIONS))
    [(_, back)] = [c for c in card_links(simulator, "lisi", config.public_base_url(), app_server) if c[0] == "邀请已接受"]
    inviter.goto(back)
    inviter.locator("#basic-values", has_text="王五").wait_for()
    snap(inviter, "contact-from-link", "28-accepted-contact-card-desktop")


def test_every_link_in_every_card_sent_to_a_member_opens_a_working_page(
        pages, app_server, client, demo_tenant, sign_in, simulator, pump, queue):
    """One full flow through the API: applications approved and rejected, a WeChat friend's acceptance, an
    organisation invitation both ways, a contact's comment on a shared item. Then every text card the simulator
    delivered is opened as its recipient, and must show its page (not an error, not the sign-in form)."""
    from chalicelib.auth import sessions
    from chalicelib.core import config
    from tests.integration.sharing_support import CHEN, register, share, sync_customer

    queue(NOTIFICATIONS)
    members = {user: sign_in(demo_tenant, user, roles=roles)
               for user, roles in (("zhangsan", ("directory_maintainer",)), ("lisi", ()), ("wangwu", ()))}
    lisi = members["lisi"]
    for name, decide in (("甲", "approve"), ("乙", "reject")):
        contact = api(client, "post", "/api/directory/contacts", lisi, {"name": name}, 201)
        application = api(client, "post", f"/api/directory/contacts/{contact['contactId']}/account-applications",
                          lisi, {"remark": "需要"}, 201)
        api(client, "post", f"/api/account-applications/{application['applicationId']}/{decide}", members["zhangsan"],
            {"reason": "信息不全"} if decide == "reject" else {}, 200)
    invitation = api(client, "post", "/api/directory/invitations", lisi, {}, 201)
    query = parse_qs(urlsplit(invitation["link"]).query)
    client.http.post("/api/invitations/accept", headers={"Content-Type": "application/json"},
                     body=json.dumps({"tenantKey": query["tenantKey"][0], "token": query["token"][0], "name": "丙"}))
    peer = _other_organisation(f"链接测试{demo_tenant.tenant_key[2:]}")
    peer_wangwu = sign_in(peer, "wangwu")
    found = api(client, "post", "/api/directory/org-members/search", lisi,
                {"organisation": peer.name, "name": "王五"}, 200)["results"][0]
    sent = api(client, "post", "/api/directory/org-invitations", lisi, {"candidate": found["candidate"]}, 201)
    api(client, "post", f"/api/directory/org-invitations/{sent['invitationId']}/accept", peer_wangwu, {}, 200)
    chen = sync_customer(demo_tenant, CHEN)
    register(client, lisi, "task", "T-links", title="确认方案")
    share(client, lisi, "task", "T-links", chen.contact_id)
    contact_token = sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, chen.contact_id, "wecom_oauth").token
    client.http.post("/api/external/items/task/T-links/comments", body=json.dumps({"text": "收到"}),
                     headers={"Authorization": f"Bearer {contact_token}", "Content-Type": "application/json"})
    pump.drain(config.resource_name(NOTIFICATIONS))

    sessions_for = {(demo_tenant.tenant_key, user): headers for user, headers in members.items()}
    sessions_for[(peer.tenant_key, "wangwu")] = peer_wangwu
    opened = []
    for message in simulator.control.messages():
        card = message["body"].get("textcard")
        if not card:
            continue
        url = card["url"].replace(config.public_base_url(), app_server)
        tenant_key = parse_qs(urlsplit(url).query).get("tenantKey", [demo_tenant.tenant_key])[0]
        tenant = peer if tenant_key == peer.tenant_key else demo_tenant
        for user in message["delivered"]:
            page = pages()
            signed_in(page, tenant, sessions_for[(tenant.tenant_key, user)])
            reply = page.goto(url)
            assert reply.status == 200, (card["title"], url)
            page.locator("#app[aria-busy]").wait_for(state="detached")
            page.locator("#app > *:not([data-state=loading])").first.wait_for()
            assert page.locator("[data-state=error], #login-form .form-note").count() == 0, (card["title"], url)
            if "/mobile/wechat/external/home" not in url:  # the contact's own page, for a contact's comment
                page.locator(".ws-nav, #basic-values, #application").first.wait_for()
            opened.append(card["title"])
            page.context.close()
    assert set(opened) == {"外部账号开通申请待审批", "外部账号开通申请已通过", "外部账号开通申请未通过", "微信好友已接受邀请",
                           "外部组织成员邀请", "邀请已接受", "陈先生评论了「确认方案」"}, opened
