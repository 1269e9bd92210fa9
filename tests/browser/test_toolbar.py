"""The chat toolbar (聊天工具栏) in headless Chromium at WeCom's sidebar sizes (360–420 px wide), against the app under
`chalice local`, the emulator and the WeCom simulator, whose stand-in `ww` plays the chat: it checks the page's
register signatures against its tickets and records every sendChatMessage. One test per entry type; the reference
screenshots are kept as docs/screenshots/tb-NN-*.png.
"""
from __future__ import annotations

import json

import pytest

from tests.browser.workspace_support import signed_in
from tests.integration.conftest import chen  # noqa: F401
from tests.integration.sharing_support import (
    CHAIN_CORP,
    CHAIN_USER,
    CHEN,
    LIN,
    chain_contact,
    contact_headers,
    register,
)

pytestmark = pytest.mark.browser
KEPT_AS = "tb"
SIDEBAR = {"width": 380, "height": 760}


def toolbar_url(app_server: str, tenant) -> str:
    return f"{app_server}/directory/toolbar?tenantKey={tenant.tenant_key}"


def open_toolbar(pages, app_server, tenant, headers, width: int = SIDEBAR["width"]):
    page = pages()
    page.set_viewport_size({"width": width, "height": SIDEBAR["height"]})
    signed_in(page, tenant, headers)
    page.goto(toolbar_url(app_server, tenant))
    return page


def registrations(simulator) -> list[dict]:
    return simulator.control.calls(path="/jssdk/register")


def sent_messages(simulator) -> list[dict]:
    return simulator.control.calls(path="/jssdk/sendChatMessage")


def assert_registered(simulator, tenant, app_server) -> None:
    """One register call, both signatures accepted by the simulator for the page's own address."""
    calls = registrations(simulator)
    assert len(calls) == 1 and calls[0]["errMsg"] == "register:ok", calls
    assert calls[0]["body"]["corpId"] == tenant.corp_id and str(calls[0]["body"]["agentId"]) == tenant.agent_id
    assert calls[0]["body"]["url"] == toolbar_url(app_server, tenant)


def send(page, item_id: str, kind: str | None = None) -> None:
    if kind:
        page.click(f".tb-kind[data-kind={kind}]")
    page.locator(f"[data-send='{item_id}']").click()
    page.locator("#send-status.ok").wait_for()


def test_single_chat_shows_chen_binds_a_project_and_sends_a_task_card_that_reaches_his_home(
        pages, app_server, client, simulator, demo_tenant, sign_in, chen, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    register(client, zhangsan, "project", "P-1", title="华东门店升级")
    register(client, zhangsan, "task", "T-1", title="安装调试", status="进行中", summary="周三上门安装")
    register(client, zhangsan, "document", "D-1", title="报价单")
    client.http.post("/api/sharing/items/document/D-1/shares", headers=zhangsan,
                     body=json.dumps({"contactId": chen.contact_id}))
    simulator.control.play_chat("single_chat_tools", external_userid=CHEN)

    page = open_toolbar(pages, app_server, demo_tenant, zhangsan)
    page.locator("#contact").wait_for()
    assert "陈先生" in page.locator("#contact").inner_text()
    assert "报价单" in page.locator("#shared-list").inner_text()
    assert_registered(simulator, demo_tenant, app_server)
    page.locator("#project-list p.muted").wait_for()  # the bound tab, empty so far
    page.locator("#send-list .weui-cells").wait_for()
    snap(page, "contact", "01-single-chat-contact", full_page=True)

    page.click("[data-tab=own]")
    page.locator("[data-bind='P-1']").click()
    page.locator("[data-bind='P-1']:has-text('解除绑定')").wait_for()
    page.click("[data-tab=bound]")
    page.locator("#project-list [data-project='P-1']").wait_for()
    snap(page, "bound", "02-project-bound")

    send(page, "T-1")
    snap(page, "sent", "03-task-sent")
    messages = sent_messages(simulator)
    assert len(messages) == 1 and messages[0]["errMsg"] == "sendChatMessage:ok"
    payload = messages[0]["body"]
    assert payload["msgtype"] == "news" and payload["entry"] == "single_chat_tools"
    assert payload["news"] == {
        "title": "安装调试", "desc": payload["news"]["desc"],
        "link": f"https://yq.test/mobile/wechat/external/home?tenantKey={demo_tenant.tenant_key}#/i/task/T-1",
        "imgUrl": "https://yq.test/mobile/wechat/external/cards/task.png"}
    assert "进行中" in payload["news"]["desc"]
    home = json.loads(client.http.get("/api/external/home", headers=contact_headers(demo_tenant, chen.contact_id)).body)
    assert [item["title"] for item in home["latest"]["task"]] == ["安装调试"]
    page.locator("#shared-list [data-kind=task]").wait_for()


def test_a_customer_added_minutes_ago_is_looked_up_when_the_toolbar_opens(
        pages, app_server, client, simulator, demo_tenant, sign_in, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    register(client, zhangsan, "form", "F-1", title="客户信息登记")
    simulator.control.play_chat("contact_profile", external_userid=LIN)
    page = open_toolbar(pages, app_server, demo_tenant, zhangsan, width=360)
    page.locator("#contact").wait_for()
    assert "林女士" in page.locator("#contact").inner_text()
    assert [c["query"]["external_userid"] for c in simulator.control.calls(path="externalcontact/get")] == [LIN]
    page.locator("#shared-empty").wait_for()
    assert_registered(simulator, demo_tenant, app_server)
    snap(page, "looked-up", "04-new-customer-looked-up-360")
    page.click(".tb-kind[data-kind=form]")
    page.locator("[data-send='F-1']:has-text('共享')").click()  # a profile has no chat: shared, nothing posted
    page.locator("#send-status.ok:has-text('与我协作')").wait_for()
    assert sent_messages(simulator) == []


def test_group_chat_picks_a_customer_of_the_group_and_sends_a_form_to_fill(
        pages, app_server, client, simulator, demo_tenant, sign_in, chen, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    register(client, zhangsan, "form", "F-1", title="客户信息登记")
    simulator.control.add_group_chat({"chat_id": "wrGroupDemo01", "name": "门店升级项目群", "owner": "zhangsan",
                                      "member_list": [{"userid": "zhangsan", "type": 1, "name": "张三"},
                                                      {"userid": CHEN, "type": 2, "name": "陈先生"},
                                                      {"userid": LIN, "type": 2, "name": "林女士"}]})
    simulator.control.play_chat("group_chat_tools", chat_id="wrGroupDemo01")
    page = open_toolbar(pages, app_server, demo_tenant, zhangsan, width=420)
    page.locator("#group-customers").wait_for()
    assert page.locator(".tb-pick").count() == 2
    snap(page, "group", "05-group-chat-pick")
    page.click(f"[data-external='{CHEN}']")
    page.locator("#contact").wait_for()
    send(page, "F-1", kind="form")
    payload = sent_messages(simulator)[0]["body"]
    assert payload["entry"] == "group_chat_tools" and payload["news"]["link"].endswith("#/i/form/F-1")
    assert "请填写" in payload["news"]["desc"]
    assert_registered(simulator, demo_tenant, app_server)
    snap(page, "form-sent", "06-group-form-sent-420")


@pytest.mark.parametrize("entry", ["chain_single_chat_tools", "chain_group_chat_tools"])
def test_a_chain_chat_resolves_the_downstream_contact_and_sends_a_card(
        pages, app_server, client, simulator, demo_tenant, sign_in, snap, entry):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    contact = chain_contact(demo_tenant)
    register(client, zhangsan, "schedule", "S-1", title="季度备货会")
    simulator.control.play_chat(entry, corpid=CHAIN_CORP, userid=CHAIN_USER)
    page = open_toolbar(pages, app_server, demo_tenant, zhangsan)
    page.locator("#contact").wait_for()
    text = page.locator("#contact").inner_text()
    assert "刘经理" in text and "上下游" in text and "华东经销商" in text
    send(page, "S-1", kind="schedule")
    payload = sent_messages(simulator)[0]["body"]
    assert payload["entry"] == entry and payload["news"]["link"].endswith("#/i/schedule/S-1")
    home = json.loads(client.http.get("/api/external/home", headers=contact_headers(demo_tenant, contact.contact_id)).body)
    assert [item["title"] for item in home["latest"]["schedule"]] == ["季度备货会"]
    if entry == "chain_single_chat_tools":
        snap(page, "chain", "07-chain-contact-sent")


def test_a_chain_contact_the_sync_has_not_brought_yet_is_explained(pages, app_server, simulator, demo_tenant,
                                                                   sign_in, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    simulator.control.play_chat("chain_single_chat_tools", corpid="wwchainnew0001", userid="zhao")
    page = open_toolbar(pages, app_server, demo_tenant, zhangsan)
    page.locator("[data-state=error]").wait_for()
    assert "上下游同步" in page.locator("[data-state=error]").inner_text()
    snap(page, "chain-not-synced", "08-chain-not-synced")


def test_outside_a_chat_the_page_says_to_open_it_from_a_chat(pages, app_server, simulator, demo_tenant, sign_in, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    simulator.control.play_chat("normal")
    page = open_toolbar(pages, app_server, demo_tenant, zhangsan)
    page.locator("[data-state=empty]").wait_for()
    assert "请从聊天中打开" in page.locator("[data-state=empty]").inner_text()
    assert_registered(simulator, demo_tenant, app_server)
    snap(page, "outside", "09-outside-a-chat")


def test_a_signature_wecom_does_not_accept_stops_the_page_with_a_sentence(pages, app_server, simulator, demo_tenant,
                                                                          sign_in, snap):
    zhangsan = sign_in(demo_tenant, "zhangsan")
    simulator.control.play_chat("single_chat_tools", external_userid=CHEN)
    page = pages()
    page.set_viewport_size(SIDEBAR)
    signed_in(page, demo_tenant, zhangsan)

    def forge(route):
        answer = route.fetch()
        config = answer.json()
        config["agentSignature"] = "0" * 40
        route.fulfill(response=answer, json=config)

    page.route("**/api/sharing/toolbar/register-config?**", forge)
    page.goto(toolbar_url(app_server, demo_tenant))
    page.locator("[data-state=error]").wait_for()
    assert "签名校验" in page.locator("[data-state=error]").inner_text()
    calls = registrations(simulator)
    assert calls[0]["errMsg"] == "register:fail" and sent_messages(simulator) == []
    snap(page, "bad-signature", "10-signature-refused")


def test_opened_in_wecom_without_a_session_the_member_signs_in_through_wecom_oauth(
        pages, app_server, simulator, demo_tenant, chen):
    from tests.browser.workspace_support import WECOM_PHONE_UA

    simulator.control.play_chat("single_chat_tools", external_userid=CHEN)
    page = pages(user_agent=WECOM_PHONE_UA)
    page.set_viewport_size(SIDEBAR)
    page.goto(toolbar_url(app_server, demo_tenant))
    page.wait_for_url("**/connect/oauth2/authorize?**")
    page.click("[data-userid=zhangsan]")
    page.locator("#contact").wait_for()
    assert "陈先生" in page.locator("#contact").inner_text()
    assert page.url == toolbar_url(app_server, demo_tenant)  # the code and state are gone from the address
    assert_registered(simulator, demo_tenant, app_server)
