"""The contact's settings on the 与我协作 home, in headless Chromium at phone (360 and 390 px) and desktop sizes, against
the app under `chalice local`, the emulator and the simulator's official account: the account name, changing the
password, the profile, binding and unbinding WeChat, a forgotten password, the apps, and an invited friend who
accepts through WeChat and lands on the home. WeChat's authorize page is played by the test (it mints the code the
simulator exchanges and sends the browser back, as WeChat does). Reference screenshots: docs/screenshots/set-*.png.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core import config
from tests.integration.sharing_support import OA_APPID, connect_official_account, register, share

pytestmark = pytest.mark.browser
KEPT_AS = "set"
HOME = "/mobile/wechat/external/home"
STRONG = "Harbour-Lights-42"
NEWER = "Quiet-River-Stone-7"
FRIEND_UNION, FRIEND_OPENID = "oz4Dq5friendUnion000000001", "oFriendOpenid0001"
# WeChat's authorize page; in the tests (YQ_WECOM_LOGIN_BASE_URL) the same path on the simulator.
WECHAT_AUTHORIZE_PAGE = "**/connect/oauth2/authorize?**"
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


@pytest.fixture
def wang(demo_tenant):
    """A manually added contact (zhangsan added them) with an active password account `wang.caigou`."""
    from chalicelib.accounts import service
    from chalicelib.directory.contacts import create_contact

    contact = create_contact(demo_tenant, {"name": "王采购", "mobile": "13800138000", "position": "采购经理"},
                             source="manual", adder_id="zhangsan", actor="zhangsan")
    opened = service.open_account(demo_tenant, contact.contact_id, actor="zhangsan", account_name="wang.caigou")
    service.activate(demo_tenant.tenant_key, urlsplit(opened["activationUrl"]).fragment.removeprefix("activate="),
                     STRONG)
    return contact


def home_url(app_server: str, tenant, fragment: str = "") -> str:
    return f"{app_server}{HOME}?tenantKey={tenant.tenant_key}{fragment}"


def signed_in_as(page, tenant, contact_id: str, method: str = "password") -> None:
    """A contact session in the page's sessionStorage before its scripts run (as a sign-in leaves it)."""
    from chalicelib.auth import sessions

    token = sessions.issue(tenant.tenant_key, sessions.CONTACT, contact_id, method).token
    page.add_init_script(f"sessionStorage.setItem({json.dumps('yq.token.' + tenant.tenant_key)}, {json.dumps(token)})")


def play_wechat(page, simulator, app_server: str, unionid: str = FRIEND_UNION, openid: str = FRIEND_OPENID) -> list:
    """WeChat's authorize page for `page`: each visit mints a code for that WeChat user and goes back with it."""
    visits: list[dict] = []

    def wechat(route):
        asked = parse_qs(urlsplit(route.request.url).query)
        visits.append(asked)
        code = simulator.control.mint_oauth_code(appid=asked["appid"][0], openid=openid, unionid=unionid)
        back = asked["redirect_uri"][0].replace(config.public_base_url(), app_server)
        route.fulfill(status=302, headers={"Location": f"{back}&code={code}&state={asked['state'][0]}"})

    page.route(WECHAT_AUTHORIZE_PAGE, wechat)
    return visits


def form_message(page, form: str) -> str:
    line = page.locator(f"{form} .form-message.error, {form} .form-message.ok").first
    line.wait_for()
    return line.inner_text()


def test_the_settings_show_the_account_and_change_the_password_and_profile(pages, app_server, demo_tenant, wang,
                                                                           client, snap):
    phone = pages()
    phone.set_viewport_size({"width": 360, "height": 780})
    signed_in_as(phone, demo_tenant, wang.contact_id)
    phone.goto(home_url(app_server, demo_tenant))
    phone.locator("#settings-link").click()
    phone.locator("#account").wait_for()
    account = phone.locator("#account").inner_text()
    assert "wang.caigou" in account and demo_tenant.name in account and "已设置" in account
    assert phone.locator("#wechat").inner_text().count("该团队还没有接入微信公众号") == 1
    snap(phone, "settings-phone", "01-settings-phone-360", full_page=True)

    form = "#settings-password-form"
    phone.fill(f"{form} input[name=currentPassword]", "Not-the-password-1")
    phone.fill(f"{form} input[name=newPassword]", NEWER)
    phone.fill(f"{form} input[name=confirmPassword]", NEWER)
    phone.click(f"{form} button[type=submit]")
    assert form_message(phone, form) == "当前密码不正确。"
    phone.locator(f"{form} .form-message.error").scroll_into_view_if_needed()
    snap(phone, "wrong-current-password", "02-password-wrong-current-phone")
    phone.fill(f"{form} input[name=currentPassword]", STRONG)
    phone.fill(f"{form} input[name=newPassword]", "short")
    phone.fill(f"{form} input[name=confirmPassword]", "short")
    phone.click(f"{form} button[type=submit]")
    phone.get_by_text("密码不符合要求").wait_for()
    phone.fill(f"{form} input[name=newPassword]", NEWER)
    phone.fill(f"{form} input[name=confirmPassword]", NEWER)
    phone.click(f"{form} button[type=submit]")
    phone.locator(f"{form} .form-message.ok").wait_for()
    assert "密码已修改" in form_message(phone, form)
    signed = client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                              body=json.dumps({"tenantKey": demo_tenant.tenant_key, "account": "wang.caigou",
                                               "password": NEWER}))
    assert signed.status_code == 201

    profile = "#profile-form"
    phone.fill(f"{profile} input[name=mobile]", "12ab")
    phone.click(f"{profile} button[type=submit]")
    assert form_message(phone, profile) == "手机号格式不正确。"
    phone.fill(f"{profile} input[name=mobile]", "13900139000")
    phone.fill(f"{profile} input[name=email]", "wang@example.com")
    phone.click(f"{profile} button[type=submit]")
    phone.locator(f"{profile} .form-message.ok").wait_for()
    from chalicelib.store import contacts

    stored = contacts.get(demo_tenant.tenant_key, wang.contact_id)
    assert (stored.mobile, stored.email) == ("13900139000", "wang@example.com")
    snap(phone, "profile-saved", "03-profile-saved-phone")

    desk = pages(desktop=True)
    signed_in_as(desk, demo_tenant, wang.contact_id)
    desk.goto(home_url(app_server, demo_tenant, "#/settings"))
    desk.locator("#apps-list").wait_for()
    snap(desk, "settings-desktop", "04-settings-desktop", full_page=True)


def test_a_contact_binds_wechat_signs_in_with_it_and_unbinds_it(pages, app_server, demo_tenant, wang, simulator,
                                                                snap):
    connect_official_account(demo_tenant)
    phone = pages()
    signed_in_as(phone, demo_tenant, wang.contact_id)
    visits = play_wechat(phone, simulator, app_server)
    phone.goto(home_url(app_server, demo_tenant, "#/settings"))
    phone.locator("#wechat-bind").click()
    flash = phone.locator(".settings-flash")
    flash.wait_for()
    assert "微信已绑定" in flash.inner_text() and "code=" not in phone.url
    assert visits[0]["scope"] == ["snsapi_userinfo"] and visits[0]["state"][0].startswith("bind")
    assert "已绑定微信" in phone.locator("#wechat-status").inner_text()
    snap(phone, "wechat-bound", "05-wechat-bound-phone")

    in_wechat = pages(user_agent=WECHAT_UA)
    play_wechat(in_wechat, simulator, app_server)
    in_wechat.goto(home_url(app_server, demo_tenant))
    in_wechat.locator(".tiles").wait_for()
    assert in_wechat.locator(".bar-sub").inner_text().startswith("王采购")

    phone.locator("#wechat-unbind").click()
    assert "解绑后不能再用这个微信登录" in phone.locator("#wechat .form-message").inner_text()
    snap(phone, "confirm-unbind", "06-wechat-unbind-confirm-phone")
    phone.locator("#wechat-unbind-confirm").click()
    phone.get_by_text("已解绑微信。").wait_for()
    assert phone.locator("#wechat-bind").is_visible()
    snap(phone, "wechat-unbound", "07-wechat-unbound-phone")

    in_wechat.reload()  # its session ended with the unbinding; WeChat no longer names the account
    note = in_wechat.locator("#login-form .form-note")
    note.wait_for()
    assert "登录已过期" in note.inner_text() or "没有找到" in note.inner_text()


def test_someone_elses_wechat_cannot_be_bound_and_the_page_says_why(pages, app_server, demo_tenant, wang, simulator,
                                                                   snap):
    from tests.integration.sharing_support import CHEN, OPENIDS, UNIONIDS, sync_customer

    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)
    phone = pages()
    signed_in_as(phone, demo_tenant, wang.contact_id)
    play_wechat(phone, simulator, app_server, UNIONIDS[CHEN], OPENIDS[CHEN])
    phone.goto(home_url(app_server, demo_tenant, "#/settings"))
    phone.locator("#wechat-bind").click()
    flash = phone.locator(".settings-flash")
    flash.wait_for()
    assert flash.inner_text() == "微信未绑定：这个微信已经绑定了本团队的另一位联系人，不能再绑定到您的账号。"
    snap(phone, "wechat-in-use", "08-wechat-in-use-phone")


def test_a_forgotten_password_is_reset_through_the_bound_wechat_or_the_contact_person(pages, app_server, demo_tenant,
                                                                                     wang, simulator, client, snap):
    phone = pages()
    phone.goto(home_url(app_server, demo_tenant))
    phone.locator("#forgot-link").click()
    phone.locator("#reset-ask").wait_for()
    assert phone.locator("#reset-wechat").count() == 0
    assert "请联系您的对接人，由其团队管理员为您重置密码" in phone.locator("#reset-ask").inner_text()
    snap(phone, "forgot-without-official-account", "09-forgot-ask-contact-person-phone")

    connect_official_account(demo_tenant)
    stranger = pages()
    play_wechat(stranger, simulator, app_server)  # FRIEND's WeChat, bound to nobody yet
    stranger.goto(home_url(app_server, demo_tenant, "#/forgot"))
    stranger.locator("#reset-wechat").click()
    refused = stranger.locator("[data-state=error]")
    refused.wait_for()
    assert "这个微信没有绑定本团队的账号。请联系您的对接人" in refused.inner_text()
    snap(stranger, "forgot-unbound-wechat", "10-forgot-unbound-wechat-phone")

    from chalicelib.accounts import binding, service
    from chalicelib.auth import sessions
    from chalicelib.store import contacts

    session = sessions.resolve(sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, wang.contact_id,
                                              "password").token)
    binding.bind(service.contact_caller(session), simulator.control.mint_oauth_code(
        appid=OA_APPID, openid=FRIEND_OPENID, unionid=FRIEND_UNION))
    assert contacts.get(demo_tenant.tenant_key, wang.contact_id).unionid == FRIEND_UNION

    owner = pages()
    play_wechat(owner, simulator, app_server)
    owner.goto(home_url(app_server, demo_tenant))
    owner.locator("#forgot-link").click()
    owner.locator("#reset-wechat").click()
    form = owner.locator("#reset-form")
    form.wait_for()
    assert "wang.caigou" in form.inner_text()
    snap(owner, "set-new-password", "11-forgot-new-password-phone")
    owner.fill("#reset-form input[name=newPassword]", NEWER)
    owner.fill("#reset-form input[name=confirmPassword]", NEWER)
    owner.click("#reset-form button[type=submit]")
    owner.locator(".bar.home").wait_for()
    old = client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                           body=json.dumps({"tenantKey": demo_tenant.tenant_key, "account": "wang.caigou",
                                            "password": STRONG}))
    assert old.status_code == 401


def test_the_home_shows_the_open_apps_and_no_section_of_a_closed_one(pages, app_server, demo_tenant, wang, client,
                                                                     sign_in, snap):
    owner = sign_in(demo_tenant, "zhangsan")
    for kind, item_id, title in (("document", "D-1", "合作协议"), ("task", "T-1", "确认报价"),
                                 ("schedule", "S-1", "项目启动会")):
        register(client, owner, kind, item_id, title=title)
        share(client, owner, kind, item_id, wang.contact_id)
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    reply = client.http.put("/api/directory/external-apps", headers=admin,
                            body=json.dumps({"apps": ["documents", "schedules"]}))
    assert reply.status_code == 200, reply.body

    phone = pages()
    signed_in_as(phone, demo_tenant, wang.contact_id)
    phone.goto(home_url(app_server, demo_tenant))
    phone.locator("#home-apps").wait_for()
    assert phone.locator("#home-apps .chip").all_inner_texts() == ["日程", "文档"]
    assert phone.locator(".tile").count() == 2 and phone.locator("[data-section=tasks]").count() == 0
    assert "确认报价" not in phone.content()
    snap(phone, "home-apps", "12-home-open-apps-phone")


def test_an_invited_friend_accepts_through_wechat_and_lands_on_the_home(pages, app_server, client, demo_tenant,
                                                                        sign_in, simulator, snap):
    connect_official_account(demo_tenant)
    lisi = sign_in(demo_tenant, "lisi")
    reply = client.http.post("/api/directory/invitations", headers=lisi, body=json.dumps({"note": "展会上认识的"}))
    assert reply.status_code == 201, reply.body
    invitation = json.loads(reply.body)

    friend = pages(user_agent=WECHAT_UA)
    friend.goto(invitation["link"].replace(config.public_base_url(), app_server))
    # the simulator plays WeChat's page: a WeChat user the team has never seen
    chooser = friend.locator("#wechat-users a[data-openid=new]")
    chooser.wait_for()
    assert parse_qs(urlsplit(friend.url).query)["state"][0].startswith("invite")
    back = parse_qs(urlsplit(friend.url).query)["redirect_uri"][0]
    friend.route(f"{config.public_base_url()}/**", lambda route: route.fulfill(
        status=302, headers={"Location": route.request.url.replace(config.public_base_url(), app_server)}))
    assert back.startswith(config.public_base_url())
    chooser.click()
    form = friend.locator("#accept-form")
    form.wait_for()
    assert "已确认您的微信身份" in form.inner_text() and "code=" not in friend.url
    snap(friend, "invitation-identified", "13-invitation-wechat-identified-phone")
    friend.fill("#accept-form input[name=name]", "周女士")
    friend.fill("#accept-form input[name=mobile]", "13800001234")
    friend.click("#accept-form button[type=submit]")
    friend.locator(".bar.home").wait_for()
    assert friend.locator(".bar-sub").inner_text() == "周女士，您好"
    assert "/mobile/wechat/external/home" in friend.url
    snap(friend, "invited-home", "14-invitation-accepted-home-phone")

    friend.locator("#settings-link").click()
    friend.locator("#wechat-status").wait_for()
    assert "已绑定微信" in friend.locator("#wechat-status").inner_text()
    assert "未开通" in friend.locator("#account").inner_text()

    again = pages(user_agent=WECHAT_UA)
    play_wechat(again, simulator, app_server)
    again.goto(invitation["link"].replace(config.public_base_url(), app_server))
    used = again.locator("[data-state=error]")
    used.wait_for()
    assert "这个邀请已经被接受过了。" in used.inner_text()


def test_outside_wechat_the_invitation_offers_wechat_and_still_accepts_without_it(pages, app_server, client,
                                                                                 demo_tenant, sign_in, snap):
    connect_official_account(demo_tenant)
    lisi = sign_in(demo_tenant, "lisi")
    links = []
    for _ in range(2):
        reply = client.http.post("/api/directory/invitations", headers=lisi, body=json.dumps({}))
        assert reply.status_code == 201, reply.body
        links.append(json.loads(reply.body)["link"].replace(config.public_base_url(), app_server))

    desk = pages(desktop=True)
    desk.route(f"{config.public_base_url()}/**", lambda route: route.fulfill(
        status=302, headers={"Location": route.request.url.replace(config.public_base_url(), app_server)}))
    desk.goto(links[0])
    desk.locator("#wechat-identify").wait_for()
    snap(desk, "invitation-offers-wechat", "15-invitation-offers-wechat-desktop")
    desk.click("#wechat-identify")
    desk.locator("#wechat-users a[data-openid=new]").click()
    desk.locator("#accept-form").get_by_text("已确认您的微信身份").wait_for()
    desk.fill("#accept-form input[name=name]", "吴先生")
    desk.click("#accept-form button[type=submit]")
    desk.locator(".bar.home").wait_for()
    assert desk.locator(".bar-sub").inner_text() == "吴先生，您好"

    plain = pages()
    plain.goto(links[1])
    plain.locator("#wechat-identify").wait_for()
    plain.fill("#accept-form input[name=name]", "郑女士")
    plain.click("#accept-form button[type=submit]")
    done = plain.locator("[data-state=empty]")
    done.wait_for()
    assert "对方为您开通账号后" in done.inner_text()
