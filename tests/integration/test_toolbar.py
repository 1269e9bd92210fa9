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


def test_the_register_config_needs_a_member_session(client, demo_tenant):
    reply = _config(client, {}, page_url(demo_tenant))
    assert reply.status_code == 401


def test_wecom_refusing_the_ticket_is_a_503_not_a_500(client, simulator, demo_tenant, zhangsan):
    simulator.control.set_fault("get_jsapi_ticket", errcode=60020, times=1)
    reply = _config(client, zhangsan, page_url(demo_tenant))
    assert reply.status_code == 503 and body(reply)["error"]["code"] == "wecom_unavailable"
    assert _config(client, zhangsan, page_url(demo_tenant)).status_code == 200
