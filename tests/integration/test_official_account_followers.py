"""The official account's own callbacks (follow, unfollow, scan) and the follower reconciliation, against the simulator:
pushed encrypted over HTTP to the app, through the callbacks queue, into the followers table; user/get and
user/info/batchget walked page by page with checkpoints."""
from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from chalicelib.core import config
from chalicelib.followers import reconcile
from chalicelib.store import followers, secrets
from chalicelib.sync.run import Deadline
from chalicelib.tenants import official_account
from tests.integration.sharing_support import OA_APPID, connect_official_account

CALLBACKS = config.resource_name("callbacks")
FOLLOWERS = config.resource_name("followers")
TOKEN, AES_KEY = "YunqiaoDemoOaToken", "dEmOoAcAlLbAcKaEsKeY0123456789aBcDeFgHiJkLm"  # dev/scenarios/demo.json
ADMIN_TOKEN = "followers-admin-token"
ADMIN = {"X-Yunqiao-Admin-Token": ADMIN_TOKEN}
XML = {"Content-Type": "text/xml"}
CHEN_OPENID, LIN_OPENID, LUO_OPENID = "oDemoOpenid0001", "oDemoOpenid0002", "oDemoOpenid0009"


@pytest.fixture
def followers_queue(queue):
    return queue("followers")


@pytest.fixture
def oa_tenant(demo_tenant, followers_queue, callbacks_queue):
    """The demo tenant with its official account connected and the account's callback keys stored (what ops does)."""
    connect_official_account(demo_tenant)
    official_account.store_callback_keys(demo_tenant, TOKEN, AES_KEY)
    secrets.merge(demo_tenant.secret_id, {"admin_token": ADMIN_TOKEN})
    return demo_tenant


@pytest.fixture
def push(simulator, app_server, oa_tenant):
    """The simulated account follows/unfollows someone and pushes the event to the tenant's callback URL."""

    def push_event(kind: str, openid: str, **params):
        answer = simulator.control.oa_push(kind, openid, f"{app_server}/wechat/callback/{oa_tenant.tenant_key}",
                                           **params)
        assert (answer["status"], answer["body"]) == (200, "success"), answer
        return answer

    return push_event


def follower(tenant, openid):
    return followers.get(tenant.tenant_key, openid)


def error_of(reply) -> dict:
    return json.loads(reply.body)["error"]


# --- the URL check ------------------------------------------------------------------------------------------------
def test_the_accounts_url_check_is_answered_with_its_echostr(simulator, app_server, oa_tenant):
    checked = simulator.control.oa_verify_url(f"{app_server}/wechat/callback/{oa_tenant.tenant_key}")
    assert checked["ok"] is True, checked


def _check_query(token: str = TOKEN, timestamp: int | None = None, **overrides) -> str:
    timestamp = str(timestamp or int(time.time()))
    nonce = uuid.uuid4().hex[:10]
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return urlencode({"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "echostr": "4242",
                      **overrides})


def test_forged_stale_and_incomplete_url_checks_are_refused(client, oa_tenant):
    path = f"/wechat/callback/{oa_tenant.tenant_key}"
    assert client.http.get(f"{path}?{_check_query()}").body == b"4242"
    cases = [(_check_query(token="another"), 403, "invalid_signature"),
             (_check_query(timestamp=int(time.time()) - 3600), 403, "stale_timestamp"),
             (_check_query(signature="0" * 40), 403, "invalid_signature"),
             ("timestamp=1&nonce=2&echostr=3", 400, "missing_signature")]
    for query, status, code in cases:
        reply = client.http.get(f"{path}?{query}")
        assert (reply.status_code, error_of(reply)["code"]) == (status, code), query


# --- follower events ----------------------------------------------------------------------------------------------
def test_a_follow_learns_the_unionid_and_an_unfollow_is_recorded(push, pump, oa_tenant, simulator):
    push("subscribe", "oNewFollower01", unionid="oz4Dq5newUnion0001", scene="expo2026")
    assert pump.drain(CALLBACKS) == 1
    row = follower(oa_tenant, "oNewFollower01")
    assert (row.following, row.unionid, row.appid, row.scene, row.source) == (
        True, "oz4Dq5newUnion0001", OA_APPID, "expo2026", "subscribe")
    asked = simulator.control.calls(path="/cgi-bin/user/info", errcode=0)
    assert [c["query"]["openid"] for c in asked] == ["oNewFollower01"]
    assert followers.find_by_unionid(oa_tenant.tenant_key, OA_APPID, "oz4Dq5newUnion0001").openid == "oNewFollower01"

    push("unsubscribe", "oNewFollower01")
    assert pump.drain(CALLBACKS) == 1
    row = follower(oa_tenant, "oNewFollower01")
    assert (row.following, row.unionid, row.source) == (False, "oz4Dq5newUnion0001", "unsubscribe")


def test_a_scan_by_a_follower_records_the_scene(push, pump, oa_tenant):
    push("SCAN", CHEN_OPENID, scene="booth-7")
    pump.drain(CALLBACKS)
    row = follower(oa_tenant, CHEN_OPENID)
    assert (row.following, row.unionid, row.scene, row.source) == (True, "oz4Dq5demoUnion000000000001", "booth-7",
                                                                   "SCAN")


def test_a_redelivery_is_queued_once_and_a_late_unfollow_does_not_undo_a_newer_follow(push, pump, oa_tenant):
    push("subscribe", "oLate01", unionid="oz4Dq5late01", create_time=1790000100, timestamp=int(time.time()),
         nonce="1234567")
    push("subscribe", "oLate01", unionid="oz4Dq5late01", create_time=1790000100)
    assert pump.drain(CALLBACKS) == 1
    push("unsubscribe", "oLate01", create_time=1790000000)  # an older unfollow, delivered late
    pump.drain(CALLBACKS)
    row = follower(oa_tenant, "oLate01")
    assert row.following is True and row.changed_at == 1790000100


# --- refusals: a 4xx with a JSON error, nothing recorded or queued -------------------------------------------------
def _event(openid: str = "oAny", created: int | None = None) -> str:
    return ("<xml><ToUserName><![CDATA[gh_demooa000001]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created or int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>")


def _signed(plaintext: str, *, token: str = TOKEN, key: str = AES_KEY, appid: str = OA_APPID,
            timestamp: int | None = None, encrypt_type: str = "aes") -> tuple[str, bytes]:
    timestamp = timestamp or int(time.time())
    nonce = uuid.uuid4().hex[:10]
    packed = xmltodict.parse(WeChatCrypto(token, key, appid).encrypt_message(plaintext, nonce, timestamp))["xml"]
    signer = WeChatSigner()
    signer.add_data(token, str(timestamp), nonce)
    query = urlencode({"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": "oAny",
                       "encrypt_type": encrypt_type, "msg_signature": packed["MsgSignature"]})
    body = (f"<xml><ToUserName><![CDATA[gh_demooa000001]]></ToUserName>"
            f"<Encrypt><![CDATA[{packed['Encrypt']}]]></Encrypt></xml>")
    return query, body.encode()


def _forged():
    query, body = _signed(_event())
    return query.replace("msg_signature=", "msg_signature=0"), body


def _oversized():
    query, body = _signed(_event())
    return query, body.replace(b"</xml>", b"<Pad>" + b"x" * 65536 + b"</Pad></xml>")


@pytest.mark.parametrize("case, status, code", [
    (_forged, 403, "invalid_signature"),
    (lambda: _signed(_event(), timestamp=int(time.time()) - 3600), 403, "stale_timestamp"),
    (lambda: _signed(_event(), appid="wxanotheraccount1"), 403, "receiver_mismatch"),
    (lambda: _signed(_event(), key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"), 400, "undecryptable"),
    (lambda: (_signed(_event())[0], b"<xml><Encrypt>unterminated"), 400, "malformed_xml"),
    (lambda: (_signed(_event())[0], b'<!DOCTYPE xml [<!ENTITY e "x">]><xml><Encrypt>&e;</Encrypt></xml>'), 400,
     "forbidden_xml"),
    (lambda: _signed("this is not xml"), 400, "malformed_xml"),
    (_oversized, 413, "body_too_large"),
    (lambda: _signed(_event(), encrypt_type="raw"), 400, "unencrypted_callback"),
    (lambda: ("timestamp=1&nonce=2&encrypt_type=aes", _signed(_event())[1]), 400, "missing_signature"),
])
def test_refused_callbacks_write_and_queue_nothing(client, oa_tenant, callbacks_queue, dedupe_records, case, status,
                                                   code):
    query, body = case()
    before = dedupe_records()
    reply = client.http.post(f"/wechat/callback/{oa_tenant.tenant_key}?{query}", headers=XML, body=body)
    assert (reply.status_code, error_of(reply)["code"]) == (status, code)
    assert callbacks_queue.messages() == [] and dedupe_records() == before


def test_unknown_tenants_and_tenants_without_the_accounts_callbacks_are_404(client, demo_tenant, oa_tenant,
                                                                           make_tenant, callbacks_queue):
    query, body = _signed(_event())
    unknown = client.http.post(f"/wechat/callback/tnnobody00?{query}", headers=XML, body=body)
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "tenant_not_found")
    bare = make_tenant()  # a tenant that never connected an official account
    unset = client.http.post(f"/wechat/callback/{bare.tenant_key}?{query}", headers=XML, body=body)
    assert (unset.status_code, error_of(unset)["code"]) == (404, "wechat_not_configured")
    check = client.http.get(f"/wechat/callback/{bare.tenant_key}?{_check_query()}")
    assert (check.status_code, error_of(check)["code"]) == (404, "wechat_not_configured")
    assert callbacks_queue.messages() == []


def test_a_callback_for_another_tenants_account_is_refused(client, oa_tenant, make_tenant):
    """Each tenant's URL opens only its own account's messages: the demo account's push sent to another tenant's URL
    (with its own keys) does not decrypt."""
    other = make_tenant()
    connect_official_account(other)
    official_account.store_callback_keys(other, "OtherTenantToken", "Zyxwvutsrqponmlkjihgfedcba9876543210ABCDEFG")
    query, body = _signed(_event())
    reply = client.http.post(f"/wechat/callback/{other.tenant_key}?{query}", headers=XML, body=body)
    assert (reply.status_code, error_of(reply)["code"]) == (403, "invalid_signature")


# --- the reconciliation -------------------------------------------------------------------------------------------
def _page_size(simulator, size: int) -> None:
    simulator.simulator.state.official_accounts[OA_APPID]["followers_page"] = size


def _add_followers(simulator, count: int) -> list[str]:
    openids = [f"oBulk{n:04d}" for n in range(count)]
    for n, openid in enumerate(openids):
        simulator.control.set_oa_follower(openid, subscribe=True, unionid=f"oz4Dq5bulk{n:04d}")
    return openids


def test_a_reconciliation_learns_everyone_who_followed_before_page_by_page(client, simulator, oa_tenant, pump):
    _page_size(simulator, 120)
    bulk = _add_followers(simulator, 150)
    started = client.http.post(f"/api/admin/tenants/{oa_tenant.tenant_key}/wechat/followers/reconcile",
                               headers=ADMIN)
    assert started.status_code == 202, started.body
    run_id = json.loads(started.body)["runId"]
    assert pump.drain(FOLLOWERS) == 1
    shown = json.loads(client.http.get(f"/api/admin/tenants/{oa_tenant.tenant_key}/wechat/followers/reconcile",
                                       headers=ADMIN).body)
    assert (shown["runId"], shown["status"], shown["trigger"]) == (run_id, "succeeded", "admin")
    assert shown["counts"] == {"listed": 152, "following": 152, "unionids": 152, "failed": 0, "unfollowed": 0}
    assert shown["errors"] == [] and shown["finishedAt"]
    for openid in (CHEN_OPENID, LIN_OPENID, bulk[0], bulk[-1]):
        assert follower(oa_tenant, openid).following is True
    assert follower(oa_tenant, LUO_OPENID) is None  # unfollowed before: user/get does not list her
    lin = followers.find_by_unionid(oa_tenant.tenant_key, OA_APPID, "oz4Dq5demoUnion000000000002")
    assert lin.openid == LIN_OPENID
    pages = [c["query"].get("next_openid", "") for c in simulator.control.calls(path="/cgi-bin/user/get", errcode=0)]
    assert len(pages) == 3 and pages[0] == "" and pages[1] and pages[2]  # 120 + 32, then the empty page after
    batches = [len(c["body"]["user_list"]) for c in simulator.control.calls(path="/cgi-bin/user/info/batchget",
                                                                           errcode=0)]
    assert batches == [100, 20, 32]


def test_a_failed_batch_is_reported_and_the_run_goes_on(client, simulator, oa_tenant, pump):
    _page_size(simulator, 120)
    _add_followers(simulator, 150)
    simulator.control.set_fault("/cgi-bin/user/info/batchget", errcode=40003, times=1)
    client.http.post(f"/api/admin/tenants/{oa_tenant.tenant_key}/wechat/followers/reconcile", headers=ADMIN)
    pump.drain(FOLLOWERS)
    shown = reconcile.describe(oa_tenant)
    assert shown["status"] == "partial"
    assert shown["counts"]["failed"] == 100 and shown["counts"]["following"] == 52
    assert [(e["code"], e["batchStart"], e["batchSize"]) for e in shown["errors"]] == [("wecom_40003", 0, 100)]


def test_a_run_out_of_time_continues_where_it_stopped(simulator, oa_tenant, pump, followers_queue):
    _page_size(simulator, 120)
    _add_followers(simulator, 150)
    run_id = reconcile.start(oa_tenant, "admin")
    followers_queue.purge()
    left = iter([60_000, 0])  # time for one batch, then the deadline
    reconcile.process({"tenantKey": oa_tenant.tenant_key, "runId": run_id},
                      Deadline(lambda: next(left, 0), margin_seconds=1))
    stopped = followers.get_run(oa_tenant.tenant_key)
    assert (stopped.status, stopped.offset, stopped.page_openid) == ("running", 100, "")
    [follow_up] = followers_queue.messages()
    assert follow_up["body"] == {"tenantKey": oa_tenant.tenant_key, "runId": run_id}
    assert pump.drain(FOLLOWERS) == 1
    done = reconcile.describe(oa_tenant)
    assert done["status"] == "succeeded" and done["counts"]["following"] == 152 and done["counts"]["listed"] == 152
    batches = [len(c["body"]["user_list"]) for c in simulator.control.calls(path="/cgi-bin/user/info/batchget",
                                                                           errcode=0)]
    assert batches == [100, 20, 32]  # nothing read twice


def test_followers_the_account_no_longer_lists_are_marked_unfollowed(client, simulator, oa_tenant, pump):
    followers.record(oa_tenant.tenant_key, OA_APPID, LUO_OPENID, following=True, at=time.time() - 86400,
                     source="subscribe", unionid="oz4Dq5demoUnion000000000009")
    reconcile.start(oa_tenant, "admin")
    pump.drain(FOLLOWERS)
    assert follower(oa_tenant, LUO_OPENID).following is False
    assert reconcile.describe(oa_tenant)["counts"]["unfollowed"] == 1


def test_an_unfollow_of_the_second_the_lists_were_read_in_wins_over_them(push, pump, oa_tenant, monkeypatch):
    """WeChat stamps events to the second: a reconciliation reading the lists at 1790000500.7 cannot tell whether an
    unfollow stamped 1790000500 came before or after its read, and the event wins; one of 1790000499 was before."""
    from chalicelib.core import clock

    with monkeypatch.context() as patch:
        patch.setattr(clock, "now", lambda: 1790000500.7)
        reconcile.start(oa_tenant, "admin")
        pump.drain(FOLLOWERS)
    assert follower(oa_tenant, LIN_OPENID).following is True
    push("unsubscribe", CHEN_OPENID, create_time=1790000499)
    push("unsubscribe", LIN_OPENID, create_time=1790000500)
    pump.drain(CALLBACKS)
    assert follower(oa_tenant, CHEN_OPENID).following is True
    assert follower(oa_tenant, LIN_OPENID).following is False


def test_one_run_at_a_time_and_clear_refusals(client, simulator, oa_tenant, make_tenant):
    path = f"/api/admin/tenants/{oa_tenant.tenant_key}/wechat/followers/reconcile"
    before = client.http.get(path, headers=ADMIN)
    assert (before.status_code, error_of(before)["code"]) == (404, "reconcile_not_found")
    assert client.http.post(path, headers=ADMIN).status_code == 202
    again = client.http.post(path, headers=ADMIN)
    assert (again.status_code, error_of(again)["code"]) == (409, "reconcile_in_progress")
    assert client.http.post(path, headers={"X-Yunqiao-Admin-Token": "wrong"}).status_code == 401
    bare = make_tenant()
    secrets.merge(bare.secret_id, {"admin_token": ADMIN_TOKEN})
    refused = client.http.post(f"/api/admin/tenants/{bare.tenant_key}/wechat/followers/reconcile", headers=ADMIN)
    assert (refused.status_code, error_of(refused)["code"]) == (404, "wechat_not_configured")


def test_the_daily_schedule_starts_a_run_for_tenants_with_an_account(oa_tenant, pump, followers_queue):
    assert pump.fire("schedule_followers")["started"] >= 1
    assert {m["body"]["tenantKey"] for m in followers_queue.messages()} >= {oa_tenant.tenant_key}


@pytest.fixture
def one_try(monkeypatch):
    """The official account's calls make one try (no transport retry, no sleep): an outage fails the message."""
    from chalicelib.wecom.http import RetryPolicy, Transport

    transport = Transport(RetryPolicy(attempts=1, connect_timeout=1.0, read_timeout=2.0),
                          base_url=config.wechat_base_url(), sleep=lambda _s: None)
    monkeypatch.setattr(official_account, "_transport", lambda: transport)
    monkeypatch.setattr(official_account, "_clients", {})


def test_an_outage_mid_run_is_retried_by_the_queue_and_resumes_from_the_checkpoint(
        simulator, oa_tenant, pump, backoffs, one_try, monkeypatch):
    _page_size(simulator, 120)
    _add_followers(simulator, 150)
    real_checkpoint = followers.checkpoint
    saved: list[int] = []

    def outage_after_the_first_batch(run, **fields):
        saved.append(fields["offset"])
        if len(saved) == 1:  # WeChat goes down right after the first batch was saved
            simulator.control.set_fault("/cgi-bin/user/info/batchget", http_status=502, times=1)
        return real_checkpoint(run, **fields)

    monkeypatch.setattr(followers, "checkpoint", outage_after_the_first_batch)
    reconcile.start(oa_tenant, "admin")
    assert pump.drain(FOLLOWERS) == 2  # failed once, then resumed
    assert backoffs  # the failed delivery was handed back with a backoff
    done = reconcile.describe(oa_tenant)
    assert done["status"] == "succeeded" and done["counts"]["following"] == 152 and done["counts"]["listed"] == 152
    batches = [len(c["body"]["user_list"]) for c in simulator.control.calls(path="/cgi-bin/user/info/batchget",
                                                                           errcode=0)]
    assert batches == [100, 20, 32]  # the first hundred were not read again
