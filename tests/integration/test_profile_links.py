"""The 与我协作 link against the WeCom simulator and the emulator: the admin routes, the queue consumer driven by the
event pump exactly as Lambda drives it, the daily schedule, dead letters and the redrive command.

Every test asserts WeCom's side — the simulator's stored profiles and its call log — not only ours.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.profile_links import runs as link_runs, status as link_status, worker as link_worker
from chalicelib.core import config
from chalicelib.tenants import wecom_clients
from chalicelib.core.aws import client as aws_client
from chalicelib.store import queues, secrets
from chalicelib.store import profile_links as link_store
from chalicelib.store import tenants as tenant_store
from chalicelib.wecom.ratelimit import RateLimiter

ROOT = Path(__file__).resolve().parents[2]
QUEUE = config.resource_name("profile-links")
ADMIN_TOKEN = "admin-token-for-tests"
DEMO_MEMBERS = ["lisi", "sunqi", "wangwu", "wujiu", "zhangsan", "zhaoliu", "zhengshi", "zhouba"]


# --- fixtures -----------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fast_wecom(fast_wecom):
    fast_wecom(attempts=4)


@pytest.fixture
def link_queue(queue):
    """The profile-links queue and its dead-letter queue, emptied."""
    return queue("profile-links")


@pytest.fixture
def tenant(demo_tenant, link_queue):
    """The demo corp's tenant, its admin token set; zhouba already carries the right link, so one member needs no
    write."""
    secrets.merge(demo_tenant.secret_id, {"admin_token": ADMIN_TOKEN})
    return demo_tenant


@pytest.fixture
def sim(simulator, tenant):
    simulator.control.add_member(dict(simulator.control.member("zhouba"), external_profile={
        "external_attr": [{"type": 0, "name": "工号", "text": {"value": "R008"}}, ours(tenant)]}))
    simulator.control.reset_calls()
    return simulator


# --- helpers ------------------------------------------------------------------------------------------------------
def url_of(tenant) -> str:
    return f"https://yq.test/mobile/wechat/external/home?tenantKey={tenant.tenant_key}"


def ours(tenant, title: str = "与我协作") -> dict:
    return {"type": 1, "name": "与我协作", "web": {"url": url_of(tenant), "title": title}}


def profiles(sim) -> dict[str, dict]:
    return {user_id: sim.control.member(user_id)["external_profile"] for user_id in DEMO_MEMBERS}


def expected_demo_profiles(tenant) -> dict[str, dict]:
    """The demo corp after a run: other attributes and corp names exactly as they were, our entry in place."""
    linked = {"external_attr": [ours(tenant)]}
    return {
        "zhangsan": {"external_corp_name": "云桥演示", "external_attr": [
            {"type": 0, "name": "工号", "text": {"value": "S001"}}, ours(tenant)]},
        "lisi": {"external_corp_name": "云桥演示", "external_attr": [
            {"type": 0, "name": "工号", "text": {"value": "S002"}}, ours(tenant)]},
        "wangwu": {"external_corp_name": "云桥演示", "external_attr": [
            {"type": 0, "name": "官网", "text": {"value": "yunqiao.example"}}, ours(tenant)]},
        "zhaoliu": linked,
        "sunqi": linked,
        "wujiu": linked,
        "zhengshi": linked,
        "zhouba": {"external_attr": [{"type": 0, "name": "工号", "text": {"value": "R008"}}, ours(tenant)]},
    }


def calls(sim, path: str, errcode: int | None = None) -> list[dict]:
    return sim.control.calls(path=path, errcode=errcode)


def admin(tenant) -> dict:
    return {"X-Yunqiao-Admin-Token": ADMIN_TOKEN}


def only_run(tenant) -> str:
    runs = link_store.recent_runs(tenant.tenant_key, 10)
    assert len(runs) == 1
    return runs[0].run_id


# --- the bulk run through the admin routes --------------------------------------------------------------------------
def test_bulk_run_links_every_member_and_keeps_everything_else(client, sim, tenant, pump):
    started = client.http.post(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs", headers=admin(tenant))
    assert started.status_code == 202
    run = json.loads(started.body)
    assert (run["state"], run["trigger"], run["queued"]) == ("listing", "admin", 0)

    assert pump.drain(QUEUE) == 1 + len(DEMO_MEMBERS)  # the listing message, then one message per member

    assert profiles(sim) == expected_demo_profiles(tenant)
    assert len(calls(sim, "user/list_id")) == 1
    assert len(calls(sim, "user/get")) == len(DEMO_MEMBERS)
    updates = calls(sim, "user/update")
    assert sorted(c["body"]["userid"] for c in updates) == sorted(set(DEMO_MEMBERS) - {"zhouba"})
    assert all(c["errcode"] == 0 for c in updates)

    progress = json.loads(client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs/{run['runId']}",
                                          headers=admin(tenant)).body)
    assert {k: progress[k] for k in ("state", "queued", "linked", "written", "failed", "pending", "retrying")} == {
        "state": "done", "queued": 8, "linked": 8, "written": 7, "failed": 0, "pending": 0, "retrying": 0}
    assert progress["failedMembers"] == [] and progress["listedAt"]
    member = link_store.MemberLink.get(f"{tenant.tenant_key}#{run['runId']}", "lisi")
    assert (member.status, member.url, member.written, member.attempts) == ("linked", url_of(tenant), True, 1)
    assert link_store.MemberLink.get(f"{tenant.tenant_key}#{run['runId']}", "zhouba").written is False


def test_a_second_run_reads_every_member_and_writes_nothing(sim, tenant, pump):
    link_runs.start_bulk_run(tenant, trigger="admin")
    pump.drain(QUEUE)
    sim.control.reset_calls()

    second = link_runs.start_bulk_run(tenant, trigger="admin")
    pump.drain(QUEUE)

    assert len(calls(sim, "user/get")) == len(DEMO_MEMBERS)
    assert calls(sim, "user/update") == []
    assert profiles(sim) == expected_demo_profiles(tenant)
    progress = link_status.progress(tenant, second)
    assert (progress["linked"], progress["written"], progress["pending"]) == (8, 0, 0)


def test_the_configured_title_and_the_tenants_own_base_url_are_written(sim, tenant, pump):
    tenant.update(actions=[tenant_store.Tenant.settings.profile_link_title.set("和我一起协作办公吧，点这里进入主页"),
                           tenant_store.Tenant.settings.public_base_url.set("https://corp.yunqiao-demo.cn/")])
    link_runs.request_members(tenant_store.get(tenant.tenant_key), ["zhaoliu"], trigger="admin")
    pump.drain(QUEUE)

    url = f"https://corp.yunqiao-demo.cn/mobile/wechat/external/home?tenantKey={tenant.tenant_key}"
    assert sim.control.member("zhaoliu")["external_profile"] == {
        "external_attr": [{"type": 1, "name": "与我协作", "web": {"url": url, "title": "和我一起协作办公吧，点这"}}]}


def test_a_placeholder_base_url_is_never_written_onto_a_profile(client, sim, tenant, pump):
    tenant.update(actions=[tenant_store.Tenant.settings.public_base_url.set("https://yunqiao.example.com")])
    started = client.http.post(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs", headers=admin(tenant))
    assert started.status_code == 202
    run_id = json.loads(started.body)["runId"]
    assert pump.drain(QUEUE) == 1  # the listing message refuses the run: no member is queued
    progress = link_status.progress(tenant, run_id)
    assert progress["state"] == "failed" and "is a placeholder" in progress["error"]

    link_runs.request_members(tenant, ["zhaoliu"], trigger="admin")  # a new member's callback: nothing queued
    assert pump.drain(QUEUE) == 0

    link_queue_message = {"kind": "member", "tenantKey": tenant.tenant_key, "runId": run_id, "userId": "lisi"}
    link_worker.process_message(link_queue_message, attempt=1, final=False)  # queued before the base was changed
    member = link_store.MemberLink.get(f"{tenant.tenant_key}#{run_id}", "lisi")
    assert member.status == "failed" and "yunqiao.example.com" in member.message
    assert calls(sim, "user/update") == [] and calls(sim, "user/list_id") == []

    manual = client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/manual-link", headers=admin(tenant))
    assert manual.status_code == 409
    assert json.loads(manual.body)["error"]["code"] == "public_base_url_placeholder"

    tenant.update(actions=[tenant_store.Tenant.settings.public_base_url.set("https://corp.yunqiao-demo.cn")])
    assert client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/manual-link",
                           headers=admin(tenant)).status_code == 200


# --- errors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("user_id, path, errcode", [
    ("ghost", "user/get", 60111),  # the userid does not exist (the simulator's own answer)
    ("zhangsan", "user/update", 60011),  # no privilege over the member
    ("lisi", "user/get", 48002),  # API not permitted for this secret
])
def test_permanent_errors_fail_the_member_at_once_and_are_not_retried(sim, tenant, pump, link_queue, user_id, path,
                                                                      errcode):
    before = profiles(sim)
    if user_id != "ghost":
        sim.control.set_fault(path, errcode=errcode)
    link_runs.request_members(tenant, [user_id], trigger="create_user")

    assert pump.drain(QUEUE) == 1

    assert len(calls(sim, path)) == 1
    assert profiles(sim) == before
    assert link_queue.messages() == [] and link_queue.messages(dlq=True) == []
    progress = link_status.progress(tenant, only_run(tenant))
    assert (progress["state"], progress["failed"], progress["linked"], progress["pending"]) == ("done", 1, 0, 0)
    [failed] = progress["failedMembers"]
    assert (failed["userId"], failed["errcode"], failed["attempts"]) == (user_id, errcode, 1)
    assert failed["message"]


@pytest.mark.parametrize("path, fault", [
    ("user/get", {"errcode": -1, "times": 5}),  # WeCom busy: four attempts of the first delivery, one of the second
    ("user/update", {"http_status": 502, "times": 4}),  # a gateway error
    ("user/get", {"latency_ms": 1000, "times": 4}),  # timeouts
    ("user/update", {"errcode": 45033, "times": 4}),  # the concurrency limit
])
def test_transient_errors_back_off_and_retry_until_linked(sim, tenant, pump, link_queue, backoffs, path, fault):
    sim.control.set_fault(path, **fault)
    link_runs.request_members(tenant, ["zhangsan"], trigger="create_user")

    pump.deliver_once(QUEUE)  # every attempt of the first delivery fails
    run_id = only_run(tenant)
    retrying = link_store.MemberLink.get(f"{tenant.tenant_key}#{run_id}", "zhangsan")
    assert (retrying.status, retrying.attempts) == ("pending", 1)
    assert len(backoffs) == 1 and backoffs[0] >= 1

    assert pump.drain(QUEUE) == 1
    assert sim.control.member("zhangsan")["external_profile"] == expected_demo_profiles(tenant)["zhangsan"]
    assert len(calls(sim, "user/update", errcode=0)) == 1
    linked = link_store.MemberLink.get(f"{tenant.tenant_key}#{run_id}", "zhangsan")
    assert (linked.status, linked.attempts, linked.errcode) == ("linked", 2, None)
    assert link_queue.messages(dlq=True) == []


def add_members(sim, count: int) -> list[str]:
    user_ids = [f"new{n:03d}" for n in range(count)]
    for user_id in user_ids:
        sim.control.add_member({"userid": user_id, "name": user_id, "department": [3]})
    sim.control.reset_calls()
    return user_ids


def test_a_45009_storm_mid_run_holds_members_back_for_a_minute_and_loses_none(sim, tenant, pump, link_queue,
                                                                                backoffs):
    new = add_members(sim, 22)  # 30 members: three batches
    run_id = link_runs.start_bulk_run(tenant, trigger="admin")
    pump.deliver_once(QUEUE)  # the listing
    pump.deliver_once(QUEUE)  # the first batch of ten, before the storm
    sim.control.set_fault("user/update", errcode=45009, times=12)  # three members' four attempts each

    pump.deliver_once(QUEUE)
    mid = link_status.progress(tenant, run_id)
    assert (mid["state"], mid["queued"], mid["retrying"]) == ("running", 30, 3)
    assert len(backoffs) == 3 and all(60 <= seconds <= 900 for seconds in backoffs)

    pump.drain(QUEUE)
    done = link_status.progress(tenant, run_id)
    assert (done["state"], done["linked"], done["failed"], done["retrying"]) == ("done", 30, 0, 0)
    assert link_queue.messages(dlq=True) == []
    needing_write = len(new) + len(DEMO_MEMBERS) - 1
    assert len(calls(sim, "user/update", errcode=0)) == needing_write
    assert len(calls(sim, "user/update", errcode=45009)) == 12
    assert profiles(sim) == expected_demo_profiles(tenant)
    assert all(sim.control.member(u)["external_profile"] == {"external_attr": [ours(tenant)]} for u in new)


class LambdaCrash(BaseException):
    """The runtime ending an invocation mid-batch (a timeout, out of memory): nothing after it runs."""


def _bulk_run_crashing_at_the_third_record(tenant, pump, monkeypatch) -> str:
    """Start a bulk run and let its member batch crash after two members were recorded, the third written in WeCom
    but not recorded; the batch is visible again at once. Returns the run id."""
    run_id = link_runs.start_bulk_run(tenant, trigger="admin")
    pump.deliver_once(QUEUE)  # the listing
    sqs = aws_client("sqs")
    url = queues.url("profile-links")
    timeout = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    record, recorded = link_store.record, []

    def crash_at_the_third(*args, **kwargs):
        if len(recorded) == 2:  # the third member is written in WeCom, its outcome not yet recorded
            raise LambdaCrash()
        recorded.append(args[2])
        record(*args, **kwargs)

    monkeypatch.setattr(link_store, "record", crash_at_the_third)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})  # redelivered at once, not in 6 min
    try:
        with pytest.raises(LambdaCrash):
            pump.deliver_once(QUEUE)
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=timeout)
    monkeypatch.setattr(link_store, "record", record)
    return run_id


def test_a_consumer_crash_mid_batch_redelivers_the_whole_batch_and_writes_nobody_twice(sim, tenant, pump,
                                                                                       monkeypatch):
    run_id = _bulk_run_crashing_at_the_third_record(tenant, pump, monkeypatch)
    assert len(calls(sim, "user/update")) == 3

    assert pump.drain(QUEUE) == len(DEMO_MEMBERS)

    assert profiles(sim) == expected_demo_profiles(tenant)
    assert len(calls(sim, "user/update")) == 7  # the third member was found written: no second update
    assert len(calls(sim, "user/get")) == len(DEMO_MEMBERS) + 3
    progress = link_status.progress(tenant, run_id)
    assert (progress["state"], progress["linked"], progress["queued"]) == ("done", 8, 8)
    attempts = [link_store.MemberLink.get(f"{tenant.tenant_key}#{run_id}", u).attempts for u in DEMO_MEMBERS]
    assert attempts == [2] * 8  # every message of the crashed batch came back once


def test_a_batch_redelivered_after_a_crash_still_counts_every_member_it_wrote(sim, tenant, pump, monkeypatch):
    """Two members recorded, the third written in WeCom but not recorded, then the crash: the redelivery finds all
    three carrying the link already, and the run must still say it wrote them (seven: zhouba needed nothing)."""
    run_id = _bulk_run_crashing_at_the_third_record(tenant, pump, monkeypatch)
    pump.drain(QUEUE)

    assert len(calls(sim, "user/update")) == 7
    progress = link_status.progress(tenant, run_id)
    assert (progress["state"], progress["linked"], progress["written"]) == ("done", 8, 7)


def test_the_consumer_never_exceeds_the_corps_rate_limit_and_hands_messages_back(sim, tenant, pump, link_queue,
                                                                               backoffs, monkeypatch):
    from chalicelib.store.wecom_state import DynamoPermitStore

    class Clock:
        now = 7_000_000 * 60 + 1.0  # a minute window no other test uses

    limiter = RateLimiter(DynamoPermitStore(), per_minute=5, block=5, clock=lambda: Clock.now)
    monkeypatch.setattr(wecom_clients, "rate_limiter", lambda: limiter)
    link_runs.request_members(tenant, DEMO_MEMBERS, trigger="admin")

    pump.deliver_once(QUEUE)
    assert len(calls(sim, "user/get")) == 5  # the window's five permits; the other three never reached WeCom
    assert len(backoffs) == 3 and all(60 <= seconds <= 65 for seconds in backoffs)  # the window's end + jitter

    Clock.now += 60
    pump.drain(QUEUE)
    Clock.now += 60
    pump.drain(QUEUE)
    assert profiles(sim) == expected_demo_profiles(tenant)
    assert calls(sim, "user/get", errcode=45009) == [] and calls(sim, "user/update", errcode=45009) == []
    assert len(calls(sim, "user/get")) == len(DEMO_MEMBERS)
    assert link_status.progress(tenant, only_run(tenant))["linked"] == 8


def test_after_the_retry_limit_the_member_fails_the_message_is_dead_lettered_and_redrive_links_it(
        sim, tenant, pump, link_queue, backoffs):
    sim.control.set_fault("user/get", errcode=-1)
    link_runs.request_members(tenant, ["wangwu"], trigger="create_user")

    assert pump.drain(QUEUE) == 8  # PROFILE_LINKS.max_receive_count deliveries
    [dead] = link_queue.messages(dlq=True)
    assert dead["body"]["userId"] == "wangwu"
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "retries_exhausted"
    assert "-1" in dead["MessageAttributes"]["detail"]["StringValue"]
    assert dead["MessageAttributes"]["receiveCount"]["StringValue"] == "8"
    assert link_queue.messages() == []
    failed = link_status.progress(tenant, only_run(tenant))
    assert (failed["failed"], failed["pending"]) == (1, 0)
    assert (failed["failedMembers"][0]["errcode"], failed["failedMembers"][0]["attempts"]) == (-1, 8)

    sim.control.clear_faults()
    redriven = subprocess.run([sys.executable, "-m", "ops", "queues", "redrive", "profile-links"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert redriven.returncode == 0, redriven.stderr
    assert json.loads(redriven.stdout) == {"queue": "profile-links", "redriven": 1, "reasons": {"retries_exhausted": 1}}
    assert link_queue.messages(dlq=True) == []

    assert pump.drain(QUEUE) == 1
    assert sim.control.member("wangwu")["external_profile"] == expected_demo_profiles(tenant)["wangwu"]
    relinked = link_status.progress(tenant, only_run(tenant))
    assert (relinked["linked"], relinked["failed"], relinked["failedMembers"]) == (1, 0, [])


def test_send_batch_sends_again_only_the_entries_sqs_refused(link_queue, monkeypatch):
    sqs = aws_client("sqs")
    send, seen = sqs.send_message_batch, []

    def refusing_one_entry_once(QueueUrl, Entries):  # noqa: N803 - boto3's parameter names
        seen.append([entry["Id"] for entry in Entries])
        if len(seen) > 1:
            return send(QueueUrl=QueueUrl, Entries=Entries)
        reply = send(QueueUrl=QueueUrl, Entries=[entry for entry in Entries if entry["Id"] != "3"])
        return dict(reply, Failed=[{"Id": "3", "SenderFault": False, "Code": "InternalError", "Message": "busy"}])

    monkeypatch.setattr(sqs, "send_message_batch", refusing_one_entry_once)
    queues.send_batch("profile-links", [{"n": n} for n in range(12)])

    assert seen == [[str(n) for n in range(10)], ["3"], ["0", "1"]]
    assert sorted(m["body"]["n"] for m in link_queue.messages()) == list(range(12))


# --- new members --------------------------------------------------------------------------------------------------
def test_a_member_requested_alone_is_linked_at_once(sim, tenant, pump):
    sim.control.add_member({"userid": "newbie", "name": "新人", "department": [2], "external_profile": {
        "external_corp_name": "云桥演示", "external_attr": [{"type": 0, "name": "工号", "text": {"value": "S099"}}]}})
    link_runs.request_members(tenant, ["newbie"], trigger="create_user")

    assert pump.drain(QUEUE) == 1
    assert sim.control.member("newbie")["external_profile"] == {"external_corp_name": "云桥演示", "external_attr": [
        {"type": 0, "name": "工号", "text": {"value": "S099"}}, ours(tenant)]}
    assert [c["body"]["userid"] for c in calls(sim, "user/update")] == ["newbie"]
    runs = link_status.recent_runs(tenant)
    assert [(r["trigger"], r["queued"]) for r in runs] == [("create_user", 1)]


def test_a_create_user_callback_gets_the_new_member_linked(app_server, sim, tenant, pump, callbacks_queue):
    sim.control.add_member({"userid": "joined", "name": "新同事", "department": [3]})
    pushed = sim.control.push("create_user", f"{app_server}/wecom/callback/{tenant.tenant_key}", userid="joined")
    assert pushed["status"] == 200

    assert pump.drain(config.resource_name("callbacks")) == 1
    assert pump.drain(QUEUE) == 1
    assert sim.control.member("joined")["external_profile"] == {"external_attr": [ours(tenant)]}


# --- the schedule -------------------------------------------------------------------------------------------------
def test_the_schedule_queues_one_run_per_enabled_tenant_and_the_run_links_the_corp(sim, tenant, pump, link_queue,
                                                                                    make_tenant):
    disabled = make_tenant()
    tenant_store.set_enabled(disabled, False)

    fired = pump.fire("schedule_profile_links")

    listed = {m["body"]["tenantKey"]: m["body"] for m in link_queue.messages()}
    assert fired == {"queued": len(listed)}
    assert listed[tenant.tenant_key]["kind"] == "list" and listed[tenant.tenant_key]["trigger"] == "schedule"
    assert disabled.tenant_key not in listed
    link_queue.purge()  # other tests' tenants name corps the simulator does not know: run ours alone
    queues.send("profile-links", listed[tenant.tenant_key])
    pump.drain(QUEUE)
    assert profiles(sim) == expected_demo_profiles(tenant)
    assert link_status.progress(tenant, listed[tenant.tenant_key]["runId"])["state"] == "done"


def test_a_listing_message_delivered_twice_queues_the_run_once(sim, tenant, pump, link_queue):
    run_id = link_runs.start_bulk_run(tenant, trigger="admin")
    [listing] = link_queue.messages()
    pump.drain(QUEUE)
    queues.send("profile-links", listing["body"])

    assert pump.drain(QUEUE) == 1
    assert len(calls(sim, "user/list_id")) == 1 and len(calls(sim, "user/get")) == len(DEMO_MEMBERS)
    assert link_status.progress(tenant, run_id)["queued"] == 8


# --- admin routes -------------------------------------------------------------------------------------------------
def test_admin_routes_need_the_tenants_admin_token(client, tenant, make_tenant):
    path = f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs"
    for headers in ({}, {"X-Yunqiao-Admin-Token": "wrong"}, {"X-Yunqiao-Admin-Token": ADMIN_TOKEN + "x"}):
        reply = client.http.post(path, headers=headers)
        assert reply.status_code == 401
        assert json.loads(reply.body)["error"]["code"] == "bad_admin_token"
    other = make_tenant()  # no admin_token in its secret: nobody may administer it this way
    reply = client.http.get(f"/api/admin/tenants/{other.tenant_key}/profile-links/manual-link", headers=admin(tenant))
    assert (reply.status_code, json.loads(reply.body)["error"]["code"]) == (403, "admin_not_configured")
    unknown = client.http.get("/api/admin/tenants/nosuchtenant/profile-links/runs", headers=admin(tenant))
    assert unknown.status_code == 404
    assert link_store.recent_runs(tenant.tenant_key, 10) == []


def test_progress_lists_failed_members_page_by_page_and_unknown_runs_are_404(client, sim, tenant, pump):
    link_runs.request_members(tenant, ["ghost3", "ghost1", "zhaoliu", "ghost2"], trigger="admin")
    pump.drain(QUEUE)
    base = f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs/{only_run(tenant)}"

    first = json.loads(client.http.get(f"{base}?limit=2", headers=admin(tenant)).body)
    assert (first["failed"], first["linked"], first["queued"]) == (3, 1, 4)
    assert [m["userId"] for m in first["failedMembers"]] == ["ghost1", "ghost2"]
    assert {m["errcode"] for m in first["failedMembers"]} == {60111}
    second = json.loads(client.http.get(f"{base}?limit=2&failedAfter={first['nextFailedAfter']}",
                                        headers=admin(tenant)).body)
    assert [m["userId"] for m in second["failedMembers"]] == ["ghost3"] and second["nextFailedAfter"] is None

    listed = json.loads(client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs",
                                        headers=admin(tenant)).body)
    assert [r["runId"] for r in listed["runs"]] == [only_run(tenant)]
    missing = client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs/20200101T000000Z-0000",
                              headers=admin(tenant))
    assert (missing.status_code, json.loads(missing.body)["error"]["code"]) == (404, "run_not_found")
    assert client.http.get(f"{base}?limit=0", headers=admin(tenant)).status_code == 400


def test_manual_link_and_a_tenant_that_cannot_write_gets_only_that(client, sim, tenant, link_queue, pump):
    reply = client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/manual-link", headers=admin(tenant))
    assert json.loads(reply.body) == {"name": "与我协作", "type": "web", "url": url_of(tenant), "title": "与我协作",
                                      "automatic": True}
    started = link_runs.start_bulk_run(tenant, trigger="admin")

    secrets.merge(tenant.secret_id, {"contacts_secret": ""})
    assert pump.drain(QUEUE) == 1  # the run started before: it fails, saying why, and calls WeCom for nobody
    ended = link_status.progress(tenant, started)
    assert (ended["state"], ended["queued"]) == ("failed", 0) and "manual link" in ended["error"]
    assert sim.control.calls() == []
    refused = client.http.post(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/runs", headers=admin(tenant))
    assert (refused.status_code, json.loads(refused.body)["error"]["code"]) == (409, "manual_link_only")
    link_runs.request_members(tenant, ["zhaoliu"], trigger="create_user")
    assert link_queue.messages() == []
    manual = json.loads(client.http.get(f"/api/admin/tenants/{tenant.tenant_key}/profile-links/manual-link",
                                        headers=admin(tenant)).body)
    assert (manual["automatic"], manual["url"]) == (False, url_of(tenant))
