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
    assert [text.split() for text in lonely.locator("#org-list li").all_inner_texts()] == [[peer.name, "当前"]]
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
