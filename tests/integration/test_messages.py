"""我的对接人 and the message threads between contacts and members, through HTTP against the emulator and the WeCom
simulator: who a contact's 对接人 are, a message each way with its notification queued and delivered (a WeCom card to
the member, a template message to the contact), unread counts, forbidden pairs, tenants kept apart, rate limits, bad
input and paging."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from chalicelib.core import config
from tests.integration.api_support import Api, body, error_code
from tests.integration.conftest import _seed_demo_tenant
from tests.integration.oauth_support import contact_round_trip, exchange
from tests.integration.sharing_support import (
    CHEN,
    HUANG,
    OPENIDS,
    UNIONIDS,
    connect_official_account,
    register,
    share,
    sync_customer,
)

NOTIFICATIONS = config.resource_name("notifications")
pytestmark = pytest.mark.usefixtures("notifications_queue")


def _wechat_contact(client, simulator, tenant, external_userid: str) -> Api:
    """The contact signed in through the official account's OAuth (which is how Yunqiao learns their openid)."""
    code = simulator.control.mint_oauth_code(appid="wxdemooa00000001", openid=OPENIDS[external_userid],
                                             unionid=UNIONIDS[external_userid])
    state, cookie = contact_round_trip(client, tenant.tenant_key, "wechat")
    reply = exchange(client, "/api/external/session/wechat", {"tenantKey": tenant.tenant_key, "code": code}, state,
                     cookie)
    assert reply.status_code == 201, reply.body
    return Api(client, {"Authorization": f"Bearer {body(reply)['token']}", "Content-Type": "application/json"})


@pytest.fixture
def world(client, simulator, demo_tenant, sign_in):
    """陈先生 (a customer followed by zhangsan and lisi) signed in through WeChat; zhangsan, lisi and wangwu (外部互联维护)
    signed in."""
    connect_official_account(demo_tenant)
    chen = sync_customer(demo_tenant, CHEN)
    members = {user: Api(client, sign_in(demo_tenant, user)) for user in ("zhangsan", "lisi")}
    members["wangwu"] = Api(client, sign_in(demo_tenant, "wangwu", roles=("directory_maintainer",)))
    return {"tenant": demo_tenant, "chen": chen, "contact": _wechat_contact(client, simulator, demo_tenant, CHEN),
            **members}


def _thread_path(contact_id: str) -> str:
    return f"/api/directory/contacts/{quote(contact_id, safe='')}/messages"


def test_a_contacts_liaisons_are_who_may_see_them_and_who_shared_with_them_with_names(client, world):
    assert [(each["userId"], each["name"], each["roles"], each["thread"])
            for each in body(world["contact"].get("/api/external/liaisons"))["liaisons"]] == [
        ("zhangsan", "张三", ["follower"], None), ("lisi", "李四", ["follower"], None)]  # by name
    # wangwu sees every contact (外部互联维护) but is nobody's 对接人 until he shares something with them.
    register(client, world["wangwu"].headers, "document", "D-1", title="报价单")
    share(client, world["wangwu"].headers, "document", "D-1", world["chen"].contact_id)
    liaisons = body(world["contact"].get("/api/external/liaisons"))["liaisons"]
    assert [(each["userId"], each["name"], each["roles"]) for each in liaisons] == [
        ("zhangsan", "张三", ["follower"]), ("lisi", "李四", ["follower"]), ("wangwu", "王五", ["sharer"])]


def test_a_message_each_way_reaches_the_other_side_and_is_read_on_the_page(client, simulator, pump, world):
    chen, contact, zhangsan = world["chen"], world["contact"], world["zhangsan"]
    sent = contact.post("/api/external/liaisons/zhangsan/messages", {"text": "  张经理，合同什么时候能发我？ "})
    assert sent.status_code == 201, sent.body
    assert body(sent)["text"] == "张经理，合同什么时候能发我？"
    assert body(sent)["author"] == {"kind": "contact", "id": chen.contact_id, "name": "陈先生"}
    assert body(sent)["notification"] == {"channel": "wecom_app", "queued": True}
    assert simulator.control.messages(touser="zhangsan") == []  # queued, not sent: the contact did not wait

    assert pump.drain(NOTIFICATIONS) == 1
    [card] = simulator.control.messages(touser="zhangsan")
    assert card["msgtype"] == "textcard" and card["delivered"] == ["zhangsan"]
    assert card["body"]["textcard"]["title"] == "陈先生 给您发来消息"
    assert card["body"]["textcard"]["description"] == "张经理，合同什么时候能发我？"
    assert card["body"]["textcard"]["url"].endswith(
        f"/directory/messages/{quote(chen.contact_id, safe='')}?tenantKey={world['tenant'].tenant_key}")

    [thread] = body(zhangsan.get("/api/messages/threads"))["threads"]
    assert thread == {"contactId": chen.contact_id, "name": "陈先生", "lastAt": body(sent)["createdAt"],
                      "lastText": "张经理，合同什么时候能发我？", "lastAuthor": "contact", "unread": 1}
    opened = body(zhangsan.get(_thread_path(chen.contact_id)))
    assert opened["contact"] == {"contactId": chen.contact_id, "name": "陈先生"}
    assert [m["text"] for m in opened["messages"]] == ["张经理，合同什么时候能发我？"] and opened["nextCursor"] is None
    assert body(zhangsan.get("/api/messages/threads"))["threads"][0]["unread"] == 0  # read now

    answered = zhangsan.post(_thread_path(chen.contact_id), {"text": "今天下午发您邮箱。"})
    assert answered.status_code == 201, answered.body
    assert body(answered)["author"] == {"kind": "member", "id": "zhangsan", "name": "张三"}
    assert body(answered)["notification"] == {"channel": "wechat_template", "queued": True}
    pump.drain(NOTIFICATIONS)
    [template] = simulator.control.template_messages(touser=OPENIDS[CHEN])
    assert template["data"]["first"]["value"] == "张三给您发来消息"
    assert template["data"]["remark"]["value"] == "今天下午发您邮箱。"
    assert template["url"].endswith(f"tenantKey={world['tenant'].tenant_key}#/m/zhangsan")

    liaisons = {each["userId"]: each for each in body(contact.get("/api/external/liaisons"))["liaisons"]}
    assert liaisons["zhangsan"]["thread"]["unread"] == 1 and liaisons["zhangsan"]["thread"]["lastAuthor"] == "member"
    assert list(liaisons) == ["zhangsan", "lisi"]  # the latest conversation first
    page = body(contact.get("/api/external/liaisons/zhangsan/messages"))
    assert page["liaison"] == {"userId": "zhangsan", "name": "张三"}
    assert [(m["author"]["kind"], m["text"]) for m in page["messages"]] == [
        ("contact", "张经理，合同什么时候能发我？"), ("member", "今天下午发您邮箱。")]
    assert body(contact.get("/api/external/liaisons"))["liaisons"][0]["thread"]["unread"] == 0


def test_a_maintainer_may_write_first_and_then_the_contact_may_answer(client, world):
    chen, contact, wangwu = world["chen"], world["contact"], world["wangwu"]
    assert error_code(contact.post("/api/external/liaisons/wangwu/messages", {"text": "您好"})) == "liaison_not_found"
    assert wangwu.post(_thread_path(chen.contact_id), {"text": "陈先生您好，我是客服王五。"}).status_code == 201
    liaisons = body(contact.get("/api/external/liaisons"))["liaisons"]
    assert (liaisons[0]["userId"], liaisons[0]["roles"]) == ("wangwu", ["thread"])
    assert contact.post("/api/external/liaisons/wangwu/messages", {"text": "您好"}).status_code == 201


def test_forbidden_pairs_are_404_and_write_nothing(client, simulator, pump, world, demo_tenant):
    huang = sync_customer(demo_tenant, HUANG)  # followed by lisi only
    contact, zhangsan = world["contact"], world["zhangsan"]
    for user_id in ("wangwu", "nobody", "a%23b", "x" * 80):
        reply = contact.post(f"/api/external/liaisons/{user_id}/messages", {"text": "hi"})
        assert reply.status_code == 404 and error_code(reply) == "liaison_not_found", user_id
        assert error_code(contact.get(f"/api/external/liaisons/{user_id}/messages")) == "liaison_not_found"
    for reply in (zhangsan.post(_thread_path(huang.contact_id), {"text": "hi"}), zhangsan.get(_thread_path(huang.contact_id)),
                  zhangsan.post(_thread_path("wx-nobody"), {"text": "hi"})):
        assert reply.status_code == 404 and error_code(reply) == "contact_not_found"
    # Sessions of the other kind and no session at all.
    assert error_code(zhangsan.get("/api/external/liaisons")) == "contact_session_required"
    assert error_code(contact.get("/api/messages/threads")) == "member_session_required"
    assert client.http.get("/api/external/liaisons").status_code == 401
    assert body(zhangsan.get("/api/messages/threads"))["threads"] == []
    assert body(world["lisi"].get("/api/messages/threads"))["threads"] == []
    pump.drain(NOTIFICATIONS)
    assert simulator.control.messages() == []


def test_another_tenants_ids_and_threads_are_not_reachable(client, simulator, sign_in, world):
    other = _seed_demo_tenant()  # the same corp, another team: its own directory and threads
    sync_customer(other, HUANG)
    chen, contact = world["chen"], world["contact"]
    assert contact.post("/api/external/liaisons/zhangsan/messages", {"text": "only in my team"}).status_code == 201
    lisi_elsewhere = Api(client, sign_in(other, "lisi"))
    assert error_code(lisi_elsewhere.get(_thread_path(chen.contact_id))) == "contact_not_found"  # not synced there
    assert error_code(lisi_elsewhere.post(_thread_path(chen.contact_id), {"text": "x"})) == "contact_not_found"
    assert body(lisi_elsewhere.get("/api/messages/threads"))["threads"] == []
    zhangsan_elsewhere = Api(client, sign_in(other, "zhangsan"))
    assert body(zhangsan_elsewhere.get("/api/messages/threads"))["threads"] == []
    # The other team's 陈先生 is another contact: he sees none of this team's messages.
    sync_customer(other, CHEN)
    connect_official_account(other)
    elsewhere = _wechat_contact(client, simulator, other, CHEN)
    assert body(elsewhere.get("/api/external/liaisons/zhangsan/messages"))["messages"] == []
    # A cursor of one thread is refused on another.
    for n in range(3):
        contact.post("/api/external/liaisons/zhangsan/messages", {"text": f"m{n}"})
    cursor = body(contact.get("/api/external/liaisons/zhangsan/messages?limit=1"))["nextCursor"]
    assert error_code(elsewhere.get(f"/api/external/liaisons/zhangsan/messages?cursor={cursor}")) == "invalid_cursor"
    assert error_code(contact.get(f"/api/external/liaisons/lisi/messages?cursor={cursor}")) == "invalid_cursor"


def test_each_side_is_rate_limited_with_a_clear_429(client, world):
    from chalicelib.messages import threads

    chen, contact, zhangsan = world["chen"], world["contact"], world["zhangsan"]
    allowed, _seconds = threads.PER_THREAD
    for n in range(allowed):
        assert contact.post("/api/external/liaisons/zhangsan/messages", {"text": f"第{n}条"}).status_code == 201
    refused = contact.post("/api/external/liaisons/zhangsan/messages", {"text": "又一条"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert body(refused)["error"]["code"] == "too_many_messages" and body(refused)["error"]["message"]
    assert contact.post("/api/external/liaisons/lisi/messages", {"text": "另一位对接人"}).status_code == 201
    for n in range(allowed):
        assert zhangsan.post(_thread_path(chen.contact_id), {"text": f"回复{n}"}).status_code == 201
    refused = zhangsan.post(_thread_path(chen.contact_id), {"text": "又一条"})
    assert refused.status_code == 429 and error_code(refused) == "too_many_messages"
    texts = [m["text"] for m in body(zhangsan.get(_thread_path(chen.contact_id) + "?limit=50"))["messages"]]
    assert len(texts) == 2 * allowed and "又一条" not in texts


@pytest.mark.parametrize("payload, code", [
    ({"text": ""}, "invalid_text"),
    ({"text": "   \n "}, "invalid_text"),
    ({"text": "长" * 1001}, "invalid_text"),
    ({"text": 5}, "invalid_text"),
    ({}, "invalid_text"),
    ({"text": "hi", "to": "lisi"}, "unknown_field"),
])
def test_message_text_is_bounded_and_checked_on_both_sides(world, payload, code):
    for api, path in ((world["contact"], "/api/external/liaisons/zhangsan/messages"),
                      (world["zhangsan"], _thread_path(world["chen"].contact_id))):
        reply = api.post(path, payload)
        assert reply.status_code == 400 and error_code(reply) == code, reply.body
    assert body(world["zhangsan"].get("/api/messages/threads"))["threads"] == []
    assert world["contact"].post("/api/external/liaisons/zhangsan/messages", {"text": "长" * 1000}).status_code == 201


def test_threads_and_inboxes_page_with_sealed_cursors(client, world, demo_tenant):
    chen, contact, zhangsan = world["chen"], world["contact"], world["zhangsan"]
    lin = sync_customer(demo_tenant, "wmYQdemo9ab62b5ef34a985438bfdf7e")  # 林女士, followed by zhangsan
    sent = []
    for n in range(7):
        api, path = ((contact, "/api/external/liaisons/zhangsan/messages") if n % 2 == 0
                     else (zhangsan, _thread_path(chen.contact_id)))
        assert api.post(path, {"text": f"消息{n}"}).status_code == 201
        sent.append(f"消息{n}")
    pages, cursor = [], None
    while True:
        answer = body(contact.get("/api/external/liaisons/zhangsan/messages?limit=3"
                                  + (f"&cursor={cursor}" if cursor else "")))
        pages.append([m["text"] for m in answer["messages"]])
        cursor = answer["nextCursor"]
        if not cursor:
            break
    assert pages == [sent[4:], sent[1:4], sent[:1]]  # the newest page first, each oldest first
    zhangsan.post(_thread_path(lin.contact_id), {"text": "林女士您好"})
    first = body(zhangsan.get("/api/messages/threads?limit=1"))
    second = body(zhangsan.get(f"/api/messages/threads?limit=1&cursor={first['nextCursor']}"))
    assert [t["name"] for t in first["threads"] + second["threads"]] == ["林女士", "陈先生"]
    assert second["nextCursor"] is None
    for bad in ("limit=0", "limit=51", "limit=x", "cursor=forged.cursor"):
        assert zhangsan.get(f"/api/messages/threads?{bad}").status_code == 400
        assert contact.get(f"/api/external/liaisons/zhangsan/messages?{bad}").status_code == 400
    assert error_code(world["lisi"].get(f"/api/messages/threads?cursor={first['nextCursor']}")) == "invalid_cursor"


def test_a_maintainer_who_lost_sight_of_the_contact_is_no_longer_a_liaison(world, demo_tenant):
    from chalicelib.store import roles

    chen, contact, wangwu = world["chen"], world["contact"], world["wangwu"]
    assert wangwu.post(_thread_path(chen.contact_id), {"text": "您好"}).status_code == 201
    roles.revoke(demo_tenant.tenant_key, "wangwu", "directory_maintainer")
    assert "wangwu" not in [each["userId"] for each in body(contact.get("/api/external/liaisons"))["liaisons"]]
    assert error_code(contact.post("/api/external/liaisons/wangwu/messages", {"text": "在吗"})) == "liaison_not_found"


def test_messages_written_at_once_from_both_sides_are_all_kept_and_counted(world, demo_tenant):
    """Four messages each way at the same moment (each its own thread, as Lambda invocations would be): every one is
    stored and each side's unread count is exact — the thread's summary is updated in the message's transaction,
    retried when another message of the pair held it."""
    import threading

    from chalicelib.accounts.service import ContactCaller
    from chalicelib.auth.identity import Caller
    from chalicelib.messages import threads

    chen = world["chen"]
    contact = ContactCaller(demo_tenant.tenant_key, chen.contact_id, "race", "wecom_oauth", chen, None, False)
    member = Caller(demo_tenant.tenant_key, "zhangsan")
    calls = [lambda n=n: threads.from_contact(contact, "zhangsan", {"text": f"c{n}"}) for n in range(4)]
    calls += [lambda n=n: threads.from_member(member, chen.contact_id, {"text": f"m{n}"}) for n in range(4)]
    start, failures = threading.Barrier(len(calls)), []

    def run(call) -> None:
        start.wait()
        try:
            call()
        except Exception as err:  # noqa: BLE001 - any failure fails the test below
            failures.append(err)

    racers = [threading.Thread(target=run, args=(call,)) for call in calls]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert failures == []
    texts = sorted(m["text"] for m in body(world["contact"].get("/api/external/liaisons/zhangsan/messages"))["messages"])
    assert texts == ["c0", "c1", "c2", "c3", "m0", "m1", "m2", "m3"]
    [thread] = body(world["zhangsan"].get("/api/messages/threads"))["threads"]
    assert thread["unread"] == 4


def test_a_share_made_before_feed_rows_named_their_sharer_still_makes_a_liaison(client, world, demo_tenant):
    from chalicelib.store import shares

    register(client, world["wangwu"].headers, "document", "D-2", title="旧的共享")
    share(client, world["wangwu"].headers, "document", "D-2", world["chen"].contact_id)
    [row] = shares.FeedRow.query(shares.contact_pk(demo_tenant.tenant_key, world["chen"].contact_id),
                                 shares.FeedRow.sk.startswith("f#document#"))
    row.update(actions=[shares.FeedRow.shared_by.remove()])  # as rows written before sharedBy was recorded
    assert shares.sharers_of_contact(demo_tenant.tenant_key, world["chen"].contact_id) == {"wangwu"}
    liaisons = body(world["contact"].get("/api/external/liaisons"))["liaisons"]
    assert ("wangwu", ["sharer"]) in [(each["userId"], each["roles"]) for each in liaisons]
