"""我的对接人 and the message threads in headless Chromium, against the app under `chalice local`, the emulator and the
WeCom simulator: the contact's home lists their 对接人, the contact writes to 张三 and reads his answer; 张三 opens the
card WeCom delivered, answers in the workspace, finds the thread in 消息 and on the contact's card. Screenshots land in
build/screenshots/<test>/; the reference set is copied to docs/screenshots/msg-*.png.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.core import config
from tests.browser.test_home_page import home_url, open_signed_in
from tests.browser.workspace_support import card_links, signed_in, workspace_url
from tests.integration.conftest import notifications_queue, pump, queue  # noqa: F401
from tests.integration.sharing_support import CHEN, register, share, sync_customer

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("notifications_queue")]
KEPT_AS = "msg"  # the reference screenshots this module keeps in docs/screenshots/
NOTIFICATIONS = config.resource_name("notifications")


def _post(client, path: str, headers: dict, text: str) -> dict:
    reply = client.http.post(path, headers={**headers, "Content-Type": "application/json"}, body=json.dumps({"text": text}))
    assert reply.status_code == 201, reply.body
    return json.loads(reply.body)


def _contact_headers(tenant, contact_id: str) -> dict:
    from chalicelib.auth import sessions

    return {"Authorization": f"Bearer {sessions.issue(tenant.tenant_key, sessions.CONTACT, contact_id, 'wecom_oauth').token}"}


def test_a_contact_writes_to_a_liaison_from_the_home_and_reads_the_answer(pages, app_server, client, demo_tenant,
                                                                          sign_in, snap):
    chen = sync_customer(demo_tenant, CHEN)  # followed by zhangsan and lisi
    zhangsan = sign_in(demo_tenant, "zhangsan")
    register(client, zhangsan, "task", "t-1", title="确认首页设计稿", status="待确认")
    share(client, zhangsan, "task", "t-1", chen.contact_id)

    phone = pages()
    open_signed_in(phone, app_server, demo_tenant, chen.contact_id)
    phone.locator("[data-liaison=zhangsan]").wait_for()
    assert phone.locator("#liaisons .item-title").all_inner_texts() == ["张三", "李四"]
    assert "企业微信好友" in phone.locator("[data-liaison=zhangsan]").inner_text()
    snap(phone, "home-liaisons", "01-home-liaisons-phone")

    phone.click("[data-liaison=zhangsan]")
    phone.locator("#no-messages").wait_for()
    assert phone.locator(".bar-title").inner_text() == "张三"
    phone.click("#message-form button[type=submit]")
    phone.get_by_text("消息不能为空，最多 1000 字。").wait_for()
    phone.fill("#message-form textarea", "张经理，合同什么时候能发我？")
    phone.click("#message-form button[type=submit]")
    phone.locator("#messages .msg.mine", has_text="张经理，合同什么时候能发我？").wait_for()
    assert phone.locator("#no-messages").is_hidden()
    snap(phone, "sent", "02-contact-sent-phone")

    _post(client, f"/api/directory/contacts/{chen.contact_id}/messages", zhangsan, "今天下午发您邮箱，请查收。")
    phone.click(".bar-back")
    phone.locator("[data-liaison=zhangsan] [data-unread='1']").wait_for()
    assert phone.locator("#liaisons .item-title").first.inner_text() == "张三"  # the latest conversation first
    assert "今天下午发您邮箱" in phone.locator("[data-liaison=zhangsan]").inner_text()
    snap(phone, "home-unread", "03-home-unread-phone")

    phone.click("[data-liaison=zhangsan]")
    phone.locator("#messages .msg:not(.mine)", has_text="今天下午发您邮箱，请查收。").wait_for()
    assert phone.locator("#messages .msg-text").all_inner_texts() == ["张经理，合同什么时候能发我？", "今天下午发您邮箱，请查收。"]
    snap(phone, "thread", "04-contact-thread-phone")
    phone.click(".bar-back")
    phone.locator("[data-liaison=zhangsan]").wait_for()
    assert phone.locator("[data-liaison=zhangsan] [data-unread]").count() == 0  # read now

    # Someone who is not one of the contact's 对接人 cannot be written to, whatever the address says.
    phone.goto(f"{home_url(app_server, demo_tenant)}#/m/wangwu")
    phone.get_by_text("这位成员不是您的对接人，无法发送消息。").wait_for()
    snap(phone, "not-a-liaison", "05-not-a-liaison-phone")

    desk = pages(desktop=True)
    open_signed_in(desk, app_server, demo_tenant, chen.contact_id, "#/m/zhangsan")
    desk.locator("#messages .msg", has_text="今天下午发您邮箱").wait_for()
    snap(desk, "thread-desktop", "06-contact-thread-desktop")


def test_a_member_answers_from_the_card_and_finds_the_thread_in_the_workspace(pages, app_server, client, demo_tenant,
                                                                               simulator, sign_in, pump, snap):
    chen = sync_customer(demo_tenant, CHEN)
    zhangsan = sign_in(demo_tenant, "zhangsan")
    for text in ("您好，我是陈先生。", "想确认一下下周的拜访时间。"):
        _post(client, "/api/external/liaisons/zhangsan/messages", _contact_headers(demo_tenant, chen.contact_id), text)
    pump.drain(NOTIFICATIONS)
    cards = card_links(simulator, "zhangsan", config.public_base_url(), app_server)
    assert [title for title, _link in cards] == ["陈先生 给您发来消息"] * 2

    phone = pages()
    signed_in(phone, demo_tenant, zhangsan)
    phone.goto(workspace_url(app_server, demo_tenant, "/directory/messages"))
    phone.locator(f"[data-thread='{chen.contact_id}'] [data-unread='2']").wait_for()
    assert "想确认一下下周的拜访时间。" in phone.locator(f"[data-thread='{chen.contact_id}']").inner_text()
    snap(phone, "inbox", "07-ws-inbox-phone")

    phone.goto(cards[-1][1])  # the card's link, as WeCom opens it
    phone.locator("#messages .msg", has_text="想确认一下下周的拜访时间。").wait_for()
    assert phone.locator(".bar-title").inner_text() == "陈先生"
    phone.fill("#message-form textarea", "下周三上午十点可以吗？")
    phone.click("#message-form button[type=submit]")
    phone.locator("#messages .msg.mine", has_text="下周三上午十点可以吗？").wait_for()
    snap(phone, "answered", "08-ws-thread-answered-phone")

    for n in range(9):  # the rest of the thread's allowance, quickly
        _post(client, f"/api/directory/contacts/{chen.contact_id}/messages", zhangsan, f"补充{n}")
    phone.fill("#message-form textarea", "再补充一句")
    phone.click("#message-form button[type=submit]")
    phone.get_by_text("消息发送太频繁，请稍后再试。").wait_for()
    snap(phone, "rate-limited", "09-ws-rate-limited-phone")

    desk = pages(desktop=True)
    signed_in(desk, demo_tenant, zhangsan)
    desk.goto(workspace_url(app_server, demo_tenant, f"/directory/contacts/{chen.contact_id}"))
    desk.click("#message-contact")
    desk.locator("#messages .msg.mine", has_text="下周三上午十点可以吗？").wait_for()
    assert desk.url.split("?")[0].endswith(f"/directory/messages/{chen.contact_id}")
    snap(desk, "thread-desktop", "10-ws-thread-desktop")
    desk.click(".bar-back")
    desk.locator(f"[data-thread='{chen.contact_id}']").wait_for()
    assert desk.locator(".ws-nav a.on").inner_text() == "消息"
    assert desk.locator(f"[data-thread='{chen.contact_id}'] [data-unread]").count() == 0
    snap(desk, "inbox-desktop", "11-ws-inbox-desktop")

    lisi = pages()
    signed_in(lisi, demo_tenant, sign_in(demo_tenant, "lisi"))
    lisi.goto(workspace_url(app_server, demo_tenant, "/directory/messages"))
    lisi.get_by_text("还没有消息").wait_for()


def test_a_long_thread_opens_at_its_newest_page_and_loads_the_earlier_ones_above(pages, app_server, demo_tenant,
                                                                                 monkeypatch):
    from chalicelib.core import clock
    from chalicelib.store import messages

    chen = sync_customer(demo_tenant, CHEN)
    start = clock.now() - 3600
    with monkeypatch.context() as patch:
        for n in range(1, 26):
            patch.setattr(clock, "now", lambda n=n: start + n)
            messages.add(demo_tenant.tenant_key, chen.contact_id, "zhangsan", messages.MEMBER, "zhangsan", f"消息 {n:02d}")
    texts = [f"消息 {n:02d}" for n in range(1, 26)]

    phone = pages()
    open_signed_in(phone, app_server, demo_tenant, chen.contact_id, "#/m/zhangsan")
    phone.locator("#messages .msg", has_text="消息 25").wait_for()
    assert phone.locator("#messages .msg-text").all_inner_texts() == texts[5:]  # the newest page, oldest first
    phone.click("#load-earlier")
    phone.locator("#messages .msg", has_text="消息 01").wait_for()
    assert phone.locator("#messages .msg-text").all_inner_texts() == texts
    assert phone.locator("#load-earlier").is_hidden()
