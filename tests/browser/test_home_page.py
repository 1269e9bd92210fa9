"""The 与我协作 page end to end in headless Chromium at phone size, against the app under `chalice local`.

The data is set up the way the product makes it: the demo corp's customers synced as contacts, an account opened
for one (`accounts.open_account`), items registered and shared by a member through the sharing routes. Then the page
is used as a customer would: sign in, change the initial password, see the sections and their counts, open an item,
comment, read the member's reply, fill in a shared form, and find an empty section. Screenshots of each step land
in build/screenshots/<test>/.
"""
from __future__ import annotations

import json

import pytest

from tests.integration.sharing_support import CHEN, HUANG, LIN, register, share, sync_customer

pytestmark = pytest.mark.browser
HOME = "/mobile/wechat/external/home"
INITIAL = "Chu-shi-Mima-2024"
CHOSEN = "Xin-de-Mima-2025!"

ITEMS = [
    ("project", "p-website", {"title": "官网改版项目", "status": "进行中", "summary": "新版官网的设计、开发与上线。"}),
    ("task", "t-design", {"title": "确认首页设计稿", "status": "待确认", "summary": "请在周五前确认首页设计稿的第二版。",
                          "updatedAt": "2025-03-03T02:00:00Z"}),
    ("approval", "a-contract", {"title": "年度服务合同审批", "status": "审批中", "summary": "合同金额 48 万元，待贵方签章。"}),
    ("form", "f-survey", {"title": "客户需求调研表", "summary": "请填写贵司的基本情况，便于我们准备方案。"}),
    ("document", "d-manual", {"title": "产品使用手册 v2", "url": "https://docs.example.com/manual-v2"}),
    ("schedule", "s-kickoff", {"title": "项目启动会", "status": "3月10日 14:00", "summary": "地点：贵司三楼会议室"}),
]


def home_url(app_server: str, tenant) -> str:
    return f"{app_server}{HOME}?tenantKey={tenant.tenant_key}"


def share_demo_items(client, member: dict, contact_id: str) -> None:
    for kind, item_id, fields in ITEMS:
        register(client, member, kind, item_id, **fields)
        share(client, member, kind, item_id, contact_id)


def open_signed_in(page, app_server: str, tenant, contact_id: str, fragment: str = "") -> str:
    """Open the page with a contact session already in its sessionStorage (as the OAuth sign-in leaves it).

    The token is put there by a script that runs before the page's own, so the page starts signed in; setting it
    after a first load and then changing only the fragment would race the login screen that first load is drawing."""
    import json as _json

    from chalicelib.auth import sessions

    issued = sessions.issue(tenant.tenant_key, sessions.CONTACT, contact_id, "wecom_oauth")
    page.add_init_script(f"sessionStorage.setItem({_json.dumps(f'yq.token.{tenant.tenant_key}')}, "
                         f"{_json.dumps(issued.token)})")
    page.goto(f"{home_url(app_server, tenant)}{fragment}")
    return issued.token


def tile_count(page, section: str) -> int:
    return int(page.locator(f"[data-section={section}] .tile-count").inner_text())


def test_a_customer_signs_in_opens_an_item_comments_and_fills_a_form(phone, app_server, client, demo_tenant,
                                                                     sign_in, shoot):
    from chalicelib.accounts import open_account

    contact = sync_customer(demo_tenant, CHEN)
    account = open_account(demo_tenant, contact.contact_id, actor="zhangsan", initial_password=INITIAL)
    member = sign_in(demo_tenant, "zhangsan")
    share_demo_items(client, member, contact.contact_id)

    phone.goto(home_url(app_server, demo_tenant))
    phone.locator("#login-form").wait_for()
    shoot("login")

    phone.fill("#login-form input[name=account]", account["accountName"])
    phone.fill("#login-form input[name=password]", "wrong-password-1A")
    phone.click("#login-form button[type=submit]")
    phone.get_by_text("账号或密码不正确。").wait_for()

    phone.fill("#login-form input[name=password]", INITIAL)
    phone.click("#login-form button[type=submit]")
    phone.locator("#password-form").wait_for()
    assert phone.locator("#password-form input[name=currentPassword]").count() == 0  # just typed: not asked again
    shoot("change-initial-password")
    phone.fill("#password-form input[name=newPassword]", CHOSEN)
    phone.fill("#password-form input[name=confirmPassword]", CHOSEN)
    phone.click("#password-form button[type=submit]")

    phone.locator(".tiles").wait_for()
    assert phone.locator(".bar-sub").inner_text().startswith(contact.name)
    counts = {key: tile_count(phone, key) for key in ("tasks", "approvals", "forms", "documents", "schedules", "crm")}
    assert counts == {"tasks": 2, "approvals": 1, "forms": 1, "documents": 1, "schedules": 1, "crm": 0}
    for _kind, _item_id, fields in ITEMS:
        assert phone.get_by_text(fields["title"]).first.is_visible()
    shoot("home")
    shoot("home-full", full_page=True)

    phone.click("[data-section=tasks]")
    phone.locator("#section-items .item").nth(1).wait_for()
    titles = phone.locator("#section-items .item-title").all_inner_texts()
    assert sorted(titles) == ["官网改版项目", "确认首页设计稿"]
    shoot("section-tasks")

    phone.click("#section-items [data-item=t-design]")
    detail = phone.locator("#item-detail")
    detail.wait_for()
    assert "确认首页设计稿" in detail.inner_text() and "待确认" in detail.inner_text()
    assert phone.locator("#home-button").is_visible()
    phone.fill("#comment-form textarea", "第二版我们看过了，首页的配色还想再调整一下。")
    phone.click("#comment-form button[type=submit]")
    phone.locator("#comments .comment-text", has_text="首页的配色还想再调整").wait_for()
    shoot("item-commented")

    conversation = client.http.get(f"/api/sharing/items/task/t-design/comments?contactId={contact.contact_id}",
                                   headers=member)
    assert [c["text"] for c in json.loads(conversation.body)["comments"]] == ["第二版我们看过了，首页的配色还想再调整一下。"]
    reply = client.http.post("/api/sharing/items/task/t-design/comments", headers=member,
                              body=json.dumps({"contactId": contact.contact_id, "text": "好的，明天给您新的配色方案。"}))
    assert reply.status_code == 201, reply.body

    phone.click("#home-button")
    notice = phone.locator("#notices .item", has_text="明天给您新的配色方案")
    notice.wait_for()
    shoot("home-with-reply")
    notice.click()
    phone.locator("#comments .comment-text", has_text="明天给您新的配色方案").wait_for()
    assert phone.locator("#comments .comment").count() == 2

    phone.click("#home-button")
    phone.locator("[data-block=forms] [data-item=f-survey]").click()
    form = phone.locator("#fill-form")
    form.wait_for()
    phone.click("#fill-form button[type=submit]")
    phone.get_by_text("请填写「公司」。").wait_for()
    phone.fill("#f-company", "陈氏贸易有限公司")
    phone.fill("#f-size", "120")
    phone.fill("#f-visit", "2025-03-12")
    phone.select_option("#f-level", "A")
    phone.click("#fill-form button[type=submit]")
    phone.get_by_text("已提交，感谢您的填写。").wait_for()
    shoot("form-submitted")
    submitted = json.loads(client.http.get("/api/sharing/items/form/f-survey/submissions", headers=member).body)
    assert [s["values"] for s in submitted["submissions"]] == [
        {"company": "陈氏贸易有限公司", "size": 120, "visit": "2025-03-12", "level": "A"}]

    phone.click("#home-button")
    phone.click("[data-section=crm]")
    empty = phone.locator("[data-state=empty]")
    empty.wait_for()
    assert "这里还没有内容" in empty.inner_text()
    shoot("empty-section")

    phone.go_back()
    phone.click("#sign-out")
    phone.locator("#login-form").wait_for()
    assert "您已退出登录" in phone.locator("#login-form").inner_text()


def test_an_activation_link_sets_the_password_and_opens_an_empty_home(phone, app_server, demo_tenant, shoot):
    from chalicelib.core import config
    from chalicelib.accounts import open_account

    contact = sync_customer(demo_tenant, LIN)
    opened = open_account(demo_tenant, contact.contact_id, actor="zhangsan")
    phone.goto(opened["activationUrl"].replace(config.public_base_url(), app_server))
    phone.locator("#activate-form").wait_for()
    assert "#activate" not in phone.url  # the token does not linger in the address bar
    shoot("activate")
    phone.fill("#activate-form input[name=newPassword]", CHOSEN)
    phone.fill("#activate-form input[name=confirmPassword]", CHOSEN + "x")
    phone.click("#activate-form button[type=submit]")
    phone.get_by_text("两次输入的密码不一致。").wait_for()
    phone.fill("#activate-form input[name=confirmPassword]", CHOSEN)
    phone.click("#activate-form button[type=submit]")
    empty = phone.locator("[data-state=empty]")
    empty.wait_for()
    assert "暂时没有共享给您的内容" in empty.inner_text()
    assert tile_count(phone, "tasks") == 0
    shoot("empty-home")


# WeCom's and the official account's OAuth page; in the tests (YQ_WECOM_LOGIN_BASE_URL) the simulator's.
WECOM_AUTHORIZE_PAGE = "**/connect/oauth2/authorize?**"
WECOM_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")


def wecom_authorize(simulator, app_server: str, visits: list, external_userid: str):
    """WeCom's authorize page, played by the test: it mints the code the simulator will exchange for that visitor
    and sends the browser back to the page with the state it was given, as WeCom does."""
    from urllib.parse import parse_qs, urlsplit

    from chalicelib.core import config

    def wecom(route):
        asked = parse_qs(urlsplit(route.request.url).query)
        visits.append(asked)
        code = simulator.control.mint_oauth_code(corpid=asked["appid"][0], external_userid=external_userid)
        back = asked["redirect_uri"][0].replace(config.public_base_url(), app_server)
        route.fulfill(status=302, headers={"Location": f"{back}&code={code}&state={asked['state'][0]}"})
    return wecom


def test_wecom_oauth_signs_a_synced_customer_in_and_sends_a_stranger_to_the_login_form(
        phones, app_server, client, demo_tenant, sign_in, simulator, shoot):
    contact = sync_customer(demo_tenant, HUANG)
    member = sign_in(demo_tenant, "lisi")
    register(client, member, "crm_record", "c-huang", title="黄同学的客户档案", status="意向客户")
    share(client, member, "crm_record", "c-huang", contact.contact_id)
    visits: list[dict] = []

    customer = phones(user_agent=WECOM_UA)
    customer.route(WECOM_AUTHORIZE_PAGE, wecom_authorize(simulator, app_server, visits, HUANG))
    customer.goto(home_url(app_server, demo_tenant))
    customer.locator("[data-block=crm]").get_by_text("黄同学的客户档案").wait_for()
    assert "code=" not in customer.url
    assert tile_count(customer, "crm") == 1
    assert visits[0]["state"][0].startswith("wecom") and visits[0]["state"][0] != "wecom"

    stranger = phones(user_agent=WECOM_UA)
    stranger.route(WECOM_AUTHORIZE_PAGE,
                   wecom_authorize(simulator, app_server, visits, "wmNoSuchCustomer00001"))
    stranger.goto(home_url(app_server, demo_tenant))
    note = stranger.locator("#login-form .form-note")
    note.wait_for()
    assert "没有找到与您的微信身份对应的外部联系人" in note.inner_text()
    assert len(visits) == 2  # each sent to WeCom once: no redirect loop
    shoot("oauth-no-contact", page=stranger)


def test_a_link_carrying_someone_elses_code_signs_nobody_in(phones, phone, app_server, demo_tenant, simulator,
                                                             shoot):
    """Login CSRF: the attacker begins a WeCom round trip in their own browser, keeps the code WeCom hands them and
    sends the victim `home?code=<theirs>&state=<theirs>`. The victim's browser never began that trip: no session."""
    from urllib.parse import parse_qs, urlsplit

    sync_customer(demo_tenant, CHEN)
    kept: dict[str, str] = {}

    def keep_the_code(route):
        asked = parse_qs(urlsplit(route.request.url).query)
        kept["state"] = asked["state"][0]
        kept["code"] = simulator.control.mint_oauth_code(corpid=asked["appid"][0], external_userid=CHEN)
        route.fulfill(status=200, content_type="text/plain", body="stopped here")

    attacker = phones(user_agent=WECOM_UA)
    attacker.route(WECOM_AUTHORIZE_PAGE, keep_the_code)
    attacker.goto(home_url(app_server, demo_tenant))
    attacker.wait_for_url(WECOM_AUTHORIZE_PAGE)
    assert kept["state"].startswith("wecom")

    phone.goto(f"{home_url(app_server, demo_tenant)}&code={kept['code']}&state={kept['state']}")
    note = phone.locator("#login-form .form-note")
    note.wait_for()
    assert "不是从这个浏览器发起的" in note.inner_text()
    assert "code=" not in phone.url
    assert phone.evaluate("Object.keys(sessionStorage).filter(function (k) { return /^yq\\.token/.test(k); })") == []
    shoot("forged-oauth-state")


def test_an_unshared_item_and_an_expired_session_say_what_happened(phone, app_server, client, demo_tenant,
                                                                    sign_in, shoot):
    from chalicelib.auth import sessions

    contact = sync_customer(demo_tenant, CHEN)
    member = sign_in(demo_tenant, "zhangsan")
    register(client, member, "document", "d-old", title="旧版报价单")
    share(client, member, "document", "d-old", contact.contact_id)
    token = open_signed_in(phone, app_server, demo_tenant, contact.contact_id, "#/i/document/d-old")
    phone.locator("#item-detail").wait_for()

    assert client.http.delete(f"/api/sharing/items/document/d-old/shares/{contact.contact_id}",
                              headers=member).status_code == 204
    phone.reload()
    gone = phone.locator("[data-state=empty]")
    gone.wait_for()
    assert "该内容已不再共享给您" in gone.inner_text()
    assert phone.locator("#home-button").is_visible()
    shoot("item-no-longer-shared")

    sessions.revoke(sessions.resolve(token))
    phone.click("#home-button")
    note = phone.locator("#login-form .form-note")
    note.wait_for()
    assert "登录已过期" in note.inner_text()
    shoot("session-expired")


WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


def test_inside_wechat_the_page_goes_through_official_account_oauth_once(phones, app_server, demo_tenant,
                                                                           simulator, shoot):
    """WeChat's authorize page is played by the test: it mints the code the simulator will exchange for the visitor
    it stands for and sends the browser back to the page, as WeChat does."""
    from urllib.parse import parse_qs, urlsplit

    from chalicelib.core import config
    from tests.integration.sharing_support import OPENIDS, UNIONIDS, connect_official_account

    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)
    visits: list[dict] = []

    def authorize_as(unionid: str, openid: str):
        def wechat(route):
            asked = parse_qs(urlsplit(route.request.url).query)
            visits.append(asked)
            code = simulator.control.mint_oauth_code(appid=asked["appid"][0], openid=openid, unionid=unionid)
            back = asked["redirect_uri"][0].replace(config.public_base_url(), app_server)
            route.fulfill(status=302, headers={"Location": f"{back}&code={code}&state={asked['state'][0]}"})
        return wechat

    customer = phones(user_agent=WECHAT_UA)
    customer.route(WECOM_AUTHORIZE_PAGE, authorize_as(UNIONIDS[CHEN], OPENIDS[CHEN]))
    customer.goto(home_url(app_server, demo_tenant))
    customer.locator(".tiles").wait_for()
    assert customer.locator(".bar-sub").inner_text().startswith("陈")
    assert "code=" not in customer.url
    assert [v["scope"] for v in visits] == [["snsapi_userinfo"]] and visits[0]["state"][0].startswith("wechat")

    stranger = phones(user_agent=WECHAT_UA)
    stranger.route(WECOM_AUTHORIZE_PAGE, authorize_as("oz4Dq5strangerUnion0000001", "oStranger0001"))
    stranger.goto(home_url(app_server, demo_tenant))
    note = stranger.locator("#login-form .form-note")
    note.wait_for()
    assert "没有找到与您的微信身份对应的外部联系人" in note.inner_text()
    assert len(visits) == 2  # sent to WeChat once, then the login form: no redirect loop
    shoot("wechat-stranger", page=stranger)


def test_a_long_section_loads_more_a_page_at_a_time(phone, app_server, client, demo_tenant, sign_in, shoot):
    contact = sync_customer(demo_tenant, CHEN)
    member = sign_in(demo_tenant, "zhangsan")
    for n in range(21):
        register(client, member, "schedule", f"s-{n:02d}", title=f"周例会 第{n + 1}次", status="已安排")
        share(client, member, "schedule", f"s-{n:02d}", contact.contact_id)
    open_signed_in(phone, app_server, demo_tenant, contact.contact_id, "#/s/schedules")
    phone.locator("#section-items .item").nth(19).wait_for()
    more = phone.locator("#load-more")
    more.wait_for()
    assert phone.locator("#section-items .item").count() == 20
    assert phone.locator("#section-items .item-title").first.inner_text() == "周例会 第21次"  # newest shared first
    more.click()
    phone.locator("#section-items .item").nth(20).wait_for()
    assert phone.locator("#section-items .item-title").last.inner_text() == "周例会 第1次"
    assert more.is_hidden()
    shoot("section-all-loaded", full_page=True)
