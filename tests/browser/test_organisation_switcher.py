"""The workspace's organisation switcher (切换组织) in headless Chromium: a member added as an external contact of
another organisation sees it there with the 外部 mark, and opening it leads to that team's 与我协作 home. The
reference screenshots are docs/screenshots/ext-*.png."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_workspace import _other_organisation
from tests.browser.workspace_support import signed_in, workspace_url
from tests.integration.api_support import Api, body
from tests.integration.test_invitations import _invite

pytestmark = pytest.mark.browser
KEPT_AS = "ext"


def test_a_member_added_by_another_organisation_sees_it_marked_external(pages, app_server, demo_tenant, client,
                                                                       sign_in, snap):
    peer = _other_organisation(f"远山贸易{demo_tenant.tenant_key[2:]}")
    wangwu = sign_in(peer, "wangwu")
    lonely = pages()
    signed_in(lonely, peer, wangwu)
    lonely.goto(workspace_url(app_server, peer))
    lonely.click("#org-switcher summary")
    lonely.locator("#org-list li[data-tenant]").first.wait_for()
    assert [text.split() for text in lonely.locator("#org-list li[data-tenant]").all_inner_texts()] == [[peer.name, "当前"]]
    assert lonely.locator("#org-list .ws-ext").count() == 0

    sent = _invite(Api(client, sign_in(demo_tenant, "lisi")), peer.name, "王五")
    assert sent.status_code == 201, sent.body
    accepted = Api(client, wangwu).post(f"/api/directory/org-invitations/{body(sent)['invitationId']}/accept")
    assert accepted.status_code == 200, accepted.body

    phone = pages()
    signed_in(phone, peer, wangwu)
    phone.goto(workspace_url(app_server, peer))
    phone.click("#org-switcher summary")
    external = phone.locator(f"#org-list li[data-tenant='{demo_tenant.tenant_key}']")
    external.wait_for()
    assert external.locator(".ws-ext").inner_text() == "外部"
    assert phone.locator(f"#org-list li[data-tenant='{peer.tenant_key}']").inner_text().endswith("当前")
    snap(phone, "switcher-phone", "01-organisation-switcher-phone")

    desktop = pages(desktop=True)
    signed_in(desktop, peer, wangwu)
    desktop.goto(workspace_url(app_server, peer))
    desktop.click("#org-switcher summary")
    desktop.locator("#org-list .ws-ext").wait_for()
    snap(desktop, "switcher-desktop", "02-organisation-switcher-desktop")

    link = external.locator("a").get_attribute("href")
    assert urlsplit(link).path == "/mobile/wechat/external/home"
    assert parse_qs(urlsplit(link).query)["tenantKey"] == [demo_tenant.tenant_key]


def test_a_member_binds_their_own_wechat_and_its_customer_contact_is_set_aside(pages, app_server, demo_tenant, sign_in,
                                                                                simulator, snap):
    from chalicelib.directory import customers
    from chalicelib.store import contacts, members
    from chalicelib.tenants.wecom_clients import client_for_tenant
    from tests.integration.sharing_support import OA_APPID, connect_official_account

    friend, unionid = "wmbindbrowser00000000000000001", "ozwujiubrowser000000001"
    simulator.control.add_customer({"external_userid": friend, "name": "吴先生", "type": 1, "unionid": unionid,
                                    "follow_users": [{"userid": "zhangsan", "createtime": 1790000000, "add_way": 1}]})
    assert customers.refresh(demo_tenant, client_for_tenant(demo_tenant), friend) == customers.ADDED
    wujiu = sign_in(demo_tenant, "wujiu")

    refused = pages()
    signed_in(refused, demo_tenant, wujiu)
    refused.goto(workspace_url(app_server, demo_tenant))
    refused.click("#org-switcher summary")
    refused.click("#bind-wechat")
    refused.locator("#bind-wechat", has_text="还没有接入微信公众号").wait_for()

    connect_official_account(demo_tenant)
    code = simulator.control.mint_oauth_code(appid=OA_APPID, openid="oWujiuBrowser01", unionid=unionid)

    def wechat_oauth_page(route):  # WeChat's page: the member agrees, WeChat sends the browser back with a code
        query = parse_qs(urlsplit(route.request.url).query)
        back = f"{query['redirect_uri'][0]}&code={code}&state={query['state'][0]}"
        route.fulfill(status=302, headers={"Location": back})

    phone = pages()
    phone.route("**/connect/oauth2/authorize?*", wechat_oauth_page)
    signed_in(phone, demo_tenant, wujiu)
    phone.goto(workspace_url(app_server, demo_tenant))
    phone.click("#org-switcher summary")
    phone.click("#bind-wechat")
    phone.get_by_text("已绑定个人微信").wait_for()
    assert "code=" not in phone.url
    snap(phone, "bound", "03-wechat-bound-phone")
    assert members.get(demo_tenant.tenant_key, "wujiu").unionid == unionid
    aside = contacts.get(demo_tenant.tenant_key, contacts.customer_contact_id(friend))
    assert (aside.wecom_customer, aside.member_match) == (False, "unionid")
