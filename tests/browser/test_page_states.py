"""The page's own states in a real browser: a broken link, the network gone and back, an unknown tenant."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
HOME = "/mobile/wechat/external/home"


def test_a_link_without_tenant_key_says_what_is_missing(phone, app_server, shoot):
    phone.goto(f"{app_server}{HOME}")
    error = phone.locator("[data-state=error]")
    error.wait_for()
    assert "链接不完整" in error.inner_text()
    assert "tenantKey" in error.inner_text()
    shoot("missing-tenant-key")


def test_network_down_shows_a_retry_that_recovers(phone, app_server, demo_tenant, shoot):
    phone.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    phone.goto(f"{app_server}{HOME}?tenantKey={demo_tenant.tenant_key}")
    error = phone.locator("[data-state=error]")
    error.wait_for()
    assert "网络连接失败" in error.inner_text()
    shoot("network-down")
    phone.unroute("**/api/**")
    error.get_by_role("button", name="重试").click()
    phone.locator("#login-form").wait_for()
    assert phone.locator("#login-form input[name=account]").is_visible()


def test_an_unknown_tenant_is_told_plainly(phone, app_server, shoot):
    phone.goto(f"{app_server}{HOME}?tenantKey=tnnosuchteam")
    error = phone.locator("[data-state=error]")
    error.wait_for()
    assert "未找到这个团队" in error.inner_text()
    assert phone.locator("#login-form").count() == 0
    shoot("unknown-tenant")
