"""The account-opening approval workflow (外部账号开通申请) against the emulator and the WeCom simulator.

Through the HTTP routes: the whole state machine (申请开通 → 审批中 → opened, or back to 申请开通 on rejection), every
illegal transition, who may apply, decide and see what, the back-office list and its filters, an application's
history, the notifications reaching WeCom (and WeCom failing without blocking anything), and approval and account
opening converging after a failure. The races run concurrently in threads against the emulator.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib import accounts
from chalicelib.accounts import applications
from chalicelib.core import clock, config
from chalicelib.auth import identity
from chalicelib.tenants import onboarding
from chalicelib.directory import audit, tree
from chalicelib.directory.contacts import create_contact
from chalicelib.store import accounts as account_store
from chalicelib.store import applications as application_store
from chalicelib.store import contacts as contact_store
from chalicelib.store import queues
from chalicelib.store import roles as role_store
from dev.seed import seed

NOTIFICATIONS = config.resource_name(queues.NOTIFICATIONS.logical_name)
PASSWORD = "Plum-river-42"


# --- fixtures -----------------------------------------------------------------------------------------------------
pytestmark = pytest.mark.usefixtures("notifications_queue")


@pytest.fixture(autouse=True)
def quick_wecom(fast_wecom):
    """WeCom calls in two tries, without the transport's real sleeps; no token left in the cache by another test."""
    fast_wecom(2)


@dataclass
class World:
    """The demo tenant's directory for these tests.

    zhangsan (ordinary) added the contact 王总 to organisation 星河科技 of dimension 华东客户. zhaoliu holds 外部互联维护,
    wangwu maintains 华东客户 and zhouba maintains another dimension; sunqi is an admin holding neither approver
    role; lisi is an ordinary member who cannot see the contact.
    """

    tenant: object
    dimension_id: str
    organisation_id: str
    other_dimension_id: str
    other_organisation_id: str
    contact_id: str
    client: object
    sign_in: object
    headers: dict = field(default_factory=dict)

    ROLES = {
        "zhangsan": (),
        "lisi": (),
        "zhaoliu": (role_store.DIRECTORY_MAINTAINER,),
        "sunqi": (role_store.ADMIN,),
    }

    def as_(self, user_id: str) -> dict:
        if user_id not in self.headers:
            self.headers[user_id] = self.sign_in(self.tenant, user_id)
        return self.headers[user_id]

    def caller(self, user_id: str) -> identity.Caller:
        return identity.Caller(self.tenant.tenant_key, user_id, role_store.roles_of(self.tenant.tenant_key, user_id))

    def new_contact(self, name: str, *, adder: str = "zhangsan", organisation_id: str | None = None,
                    visible: list[str] | None = None) -> str:
        fields = {"name": name, "organisationId": organisation_id or self.organisation_id}
        if visible is not None:
            fields["visibleMembers"] = visible
        return create_contact(self.tenant, fields, source="manual", adder_id=adder, actor=adder).contact_id

    # HTTP
    def post(self, user_id: str, path: str, body: dict | None = None):
        reply = self.client.http.post(path, headers=self.as_(user_id), body=json.dumps(body or {}))
        return reply.status_code, json.loads(reply.body) if reply.body else None

    def get(self, user_id: str, path: str):
        reply = self.client.http.get(path, headers=self.as_(user_id))
        return reply.status_code, json.loads(reply.body) if reply.body else None

    def apply(self, user_id: str, contact_id: str | None = None, remark: str | None = "请开通账号"):
        return self.post(user_id, f"/api/directory/contacts/{contact_id or self.contact_id}/account-applications",
                         {"remark": remark})

    def approve(self, user_id: str, application_id: str):
        return self.post(user_id, f"/api/account-applications/{application_id}/approve")

    def reject(self, user_id: str, application_id: str, reason: str | None = "信息不全"):
        return self.post(user_id, f"/api/account-applications/{application_id}/reject", {"reason": reason})

    def detail(self, user_id: str, application_id: str):
        return self.get(user_id, f"/api/account-applications/{application_id}")

    def listing(self, user_id: str, query: str = ""):
        return self.get(user_id, f"/api/account-applications{'?' + query if query else ''}")

    def applied(self, user_id: str = "zhangsan", contact_id: str | None = None) -> str:
        status, body = self.apply(user_id, contact_id)
        assert status == 201, body
        return body["applicationId"]

    def contact(self, contact_id: str | None = None) -> contact_store.Contact:
        return contact_store.get(self.tenant.tenant_key, contact_id or self.contact_id)

    def application(self, application_id: str) -> application_store.Application:
        return application_store.get(self.tenant.tenant_key, application_id)


def build_world(demo_tenant, client, sign_in) -> World:
    admin = identity.Caller(demo_tenant.tenant_key, "sunqi", frozenset({role_store.ADMIN}))
    dimension = tree.create_node(admin, {"kind": "dimension", "name": "华东客户"})
    organisation = tree.create_node(admin, {"kind": "organisation", "name": "星河科技", "parentId": dimension.node_id})
    other_dimension = tree.create_node(admin, {"kind": "dimension", "name": "华南客户"})
    other_organisation = tree.create_node(admin, {"kind": "organisation", "name": "南山制造",
                                                  "parentId": other_dimension.node_id})
    for user_id, held in World.ROLES.items():
        for role in held:
            role_store.grant(demo_tenant.tenant_key, user_id, role, "test")
    role_store.grant(demo_tenant.tenant_key, "wangwu", role_store.dimension_role(dimension.node_id), "test")
    role_store.grant(demo_tenant.tenant_key, "zhouba", role_store.dimension_role(other_dimension.node_id), "test")
    contact = create_contact(demo_tenant, {"name": "王总", "organisationId": organisation.node_id,
                                           "mobile": "13800000001"},
                             source="manual", adder_id="zhangsan", actor="zhangsan")
    return World(demo_tenant, dimension.node_id, organisation.node_id, other_dimension.node_id,
                 other_organisation.node_id, contact.contact_id, client, sign_in)


@pytest.fixture
def world(demo_tenant, client, sign_in) -> World:
    return build_world(demo_tenant, client, sign_in)


def textcards(simulator, user_id: str) -> list[dict]:
    return [m["body"]["textcard"] for m in simulator.control.messages(touser=user_id)]


def events(application: dict) -> list[str]:
    return [entry["event"] for entry in application["history"]]


# --- the state machine ------------------------------------------------------------------------------------------------
def test_an_approved_application_opens_the_account_and_the_contact_signs_in_through_the_link(world, simulator, pump):
    status, applied = world.apply("zhangsan", remark="客户要看项目进度")
    assert status == 201, applied
    application_id = applied["applicationId"]
    assert (applied["status"], applied["statusLabel"], applied["remark"]) == ("pending", "审批中", "客户要看项目进度")
    assert applied["applicant"] == {"userId": "zhangsan", "name": "张三"}
    assert applied["approvers"] == ["wangwu", "zhaoliu"]  # 外部互联维护 and the dimension's maintainer; not the admin
    assert (applied["contactId"], applied["contactName"]) == (world.contact_id, "王总")
    assert applied["decision"] is None and applied["account"] is None
    assert world.contact().account_status == "pending"

    assert pump.drain(NOTIFICATIONS) == 1
    link = f"https://yq.test/admin/account-applications/{application_id}?tenantKey={world.tenant.tenant_key}"
    for approver in ("wangwu", "zhaoliu"):
        [card] = textcards(simulator, approver)
        assert (card["title"], card["url"]) == ("外部账号开通申请待审批", link)
        assert "张三" in card["description"] and "王总" in card["description"]
    assert textcards(simulator, "sunqi") == [] and textcards(simulator, "zhangsan") == []

    status, approved = world.approve("wangwu", application_id)
    assert status == 200, approved
    assert (approved["status"], approved["statusLabel"]) == ("approved", "已通过")
    assert approved["decision"]["userId"] == "wangwu" and approved["decision"]["name"] == "王五"
    account = approved["account"]
    assert re.fullmatch(r"yq[a-z2-7]{10}", account["accountName"])
    activation = urlparse(account["activationUrl"])
    assert (activation.scheme, activation.netloc, activation.path) == ("https", "yq.test",
                                                                       "/mobile/wechat/external/home")
    assert parse_qs(activation.query) == {"tenantKey": [world.tenant.tenant_key]}
    assert account["activationExpiresAt"] > datetime.now(timezone.utc).timestamp()
    contact = world.contact()
    assert (contact.account_status, contact.account_name) == ("opened", account["accountName"])

    assert pump.drain(NOTIFICATIONS) == 1
    [told] = textcards(simulator, "zhangsan")
    assert told["title"] == "外部账号开通申请已通过" and account["accountName"] in told["description"]
    assert account["activationUrl"] not in told["description"]  # the link goes to the contact through an approver

    status, seen = world.detail("zhaoliu", application_id)
    assert status == 200
    assert events(seen) == ["applied", "notified", "approved", "account_opened", "applicant_notified"]
    assert seen["history"][1]["users"] == ["wangwu", "zhaoliu"]
    assert seen["account"] == account
    status, own = world.detail("zhangsan", application_id)
    assert status == 200 and own["account"] == {"accountName": account["accountName"]}  # no link for the applicant

    trail = [(e["action"], e["actor"], e["after"].get("accountStatus"))
             for e in audit.history(world.tenant.tenant_key, world.contact_id)["entries"]]
    assert ("account_applied", "zhangsan", "pending") in trail
    assert ("account_approved", "wangwu", "opened") in trail

    token = activation.fragment.removeprefix("activate=")
    reply = world.client.http.post("/api/external/activation", headers={"Content-Type": "application/json"},
                                   body=json.dumps({"tenantKey": world.tenant.tenant_key, "token": token,
                                                    "password": PASSWORD}))
    assert reply.status_code == 201, reply.body
    reply = world.client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                                   body=json.dumps({"tenantKey": world.tenant.tenant_key,
                                                    "account": account["accountName"], "password": PASSWORD}))
    assert reply.status_code == 201, reply.body
    assert json.loads(reply.body)["contact"]["contactId"] == world.contact_id


def test_a_rejection_returns_the_contact_to_apply_and_it_may_be_applied_for_again(world, simulator, pump):
    first = world.applied()
    pump.drain(NOTIFICATIONS)

    status, refused = world.reject("zhaoliu", first, reason=None)
    assert (status, refused["error"]["code"]) == (400, "invalid_reason")
    assert world.application(first).status == "pending"

    status, rejected = world.reject("zhaoliu", first, reason="请先补全手机号")
    assert status == 200, rejected
    assert (rejected["status"], rejected["statusLabel"]) == ("rejected", "已驳回")
    assert rejected["decision"]["userId"] == "zhaoliu" and rejected["decision"]["reason"] == "请先补全手机号"
    assert rejected["account"] is None
    assert world.contact().account_status == "none"

    pump.drain(NOTIFICATIONS)
    [told] = textcards(simulator, "zhangsan")
    assert told["title"] == "外部账号开通申请未通过" and "请先补全手机号" in told["description"]
    assert events(world.detail("zhaoliu", first)[1]) == ["applied", "notified", "rejected", "applicant_notified"]
    trail = [(e["action"], e["after"]) for e in audit.history(world.tenant.tenant_key, world.contact_id)["entries"]]
    assert ("account_rejected", {"accountStatus": "none", "applicationId": first,
                                 "reason": "请先补全手机号"}) in trail

    second = world.applied()
    assert second != first and world.contact().account_status == "pending"
    status, mine = world.listing("zhangsan", "applicant=zhangsan")
    assert status == 200 and [i["applicationId"] for i in mine["items"]] == [second, first]


# --- illegal transitions --------------------------------------------------------------------------------------------
def test_approve_twice_is_a_conflict_naming_the_state(world):
    application_id = world.applied()
    assert world.approve("wangwu", application_id)[0] == 200

    status, body = world.approve("zhaoliu", application_id)

    assert status == 409 and set(body) == {"error"}
    assert body["error"]["code"] == "application_not_pending"
    assert "approved" in body["error"]["message"] and "王五" in body["error"]["message"]
    stored = world.application(application_id)
    assert (stored.status, stored.decided_by) == ("approved", "wangwu")
    assert account_store.account_of(world.tenant.tenant_key, world.contact_id).account_name == stored.account_name


def test_approve_after_reject_and_reject_after_approve_are_conflicts(world):
    rejected = world.applied()
    assert world.reject("wangwu", rejected)[0] == 200
    status, body = world.approve("zhaoliu", rejected)
    assert status == 409 and "rejected" in body["error"]["message"]
    status, body = world.reject("zhaoliu", rejected)
    assert status == 409 and "rejected" in body["error"]["message"]
    assert world.contact().account_status == "none"

    approved = world.applied()
    assert world.approve("zhaoliu", approved)[0] == 200
    status, body = world.reject("wangwu", approved)
    assert status == 409 and "approved" in body["error"]["message"]
    assert world.application(approved).status == "approved" and world.contact().account_status == "opened"


def test_a_contact_has_at_most_one_pending_application_and_none_once_it_has_an_account(world):
    pending = world.applied()

    status, body = world.apply("wangwu")  # another member who sees the contact
    assert (status, body["error"]["code"]) == (409, "application_pending")

    assert world.approve("zhaoliu", pending)[0] == 200
    status, body = world.apply("zhangsan")
    assert (status, body["error"]["code"]) == (409, "account_exists")
    status, listed = world.listing("zhaoliu")
    assert [i["applicationId"] for i in listed["items"]] == [pending]


def test_nobody_decides_their_own_application(world):
    application_id = world.applied("zhaoliu")  # an approver applying

    for decide in (world.approve, world.reject):
        status, body = decide("zhaoliu", application_id)
        assert (status, body["error"]["code"]) == (403, "own_application")
    assert world.application(application_id).status == "pending"
    assert world.approve("wangwu", application_id)[0] == 200


@pytest.mark.parametrize("user_id", ["sunqi", "zhouba", "lisi"])  # admin only; another dimension; ordinary
def test_only_approvers_decide(world, user_id):
    application_id = world.applied()

    for decide in (world.approve, world.reject):
        status, body = decide(user_id, application_id)
        assert (status, body["error"]["code"]) == (403, "not_an_approver")
    assert world.application(application_id).status == "pending"
    assert world.contact().account_status == "pending"


def test_a_contact_the_member_cannot_see_cannot_be_applied_for(world):
    status, body = world.apply("lisi")
    assert (status, body["error"]["code"]) == (404, "contact_not_found")
    status, body = world.apply("lisi", "ct-0000000000000000")
    assert (status, body["error"]["code"]) == (404, "contact_not_found")
    assert world.contact().account_status == "none"


def test_remarks_are_optional_but_bounded(world):
    status, body = world.apply("zhangsan", remark="x" * 501)
    assert (status, body["error"]["code"]) == (400, "invalid_remark")
    status, body = world.apply("zhangsan", remark=None)
    assert status == 201 and body["remark"] is None


def test_unknown_and_other_tenants_applications_are_not_found(world, sign_in):
    application_id = world.applied()
    other = seed(Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json", onboarding.new_tenant_key())
    outsider = sign_in(other, "zhaoliu", roles=(role_store.DIRECTORY_MAINTAINER, role_store.ADMIN))

    for method, path in [("get", f"/api/account-applications/{application_id}"),
                         ("post", f"/api/account-applications/{application_id}/approve"),
                         ("post", f"/api/account-applications/{application_id}/reject")]:
        reply = getattr(world.client.http, method)(path, headers=outsider, body=json.dumps({"reason": "x"}))
        assert reply.status_code == 404 and json.loads(reply.body)["error"]["code"] == "application_not_found"
    assert world.application(application_id).status == "pending"
    status, body = world.detail("zhaoliu", "20990101T000000000000Z-0123456789")
    assert (status, body["error"]["code"]) == (404, "application_not_found")
    reply = world.client.http.get("/api/account-applications", headers=outsider)
    assert json.loads(reply.body)["items"] == []


def test_who_sees_an_application(world):
    application_id = world.applied()

    for user_id in ("zhaoliu", "wangwu", "sunqi", "zhangsan"):  # 外部互联维护, dimension maintainer, admin, applicant
        assert world.detail(user_id, application_id)[0] == 200
    for user_id in ("zhouba", "lisi"):  # another dimension's maintainer; an ordinary member
        status, body = world.detail(user_id, application_id)
        assert (status, body["error"]["code"]) == (404, "application_not_found")


def test_routes_need_a_member_session(world):
    application_id = world.applied()
    for path in (f"/api/account-applications/{application_id}", "/api/account-applications"):
        reply = world.client.http.get(path)
        assert reply.status_code == 401
    reply = world.client.http.post(f"/api/account-applications/{application_id}/approve",
                                   headers={"Content-Type": "application/json"}, body="{}")
    assert reply.status_code == 401


# --- approval and account opening converge --------------------------------------------------------------------------
class LambdaCrash(BaseException):
    """The runtime ending an invocation (a timeout): nothing after it runs, no handler sees it."""


def test_a_failed_opening_leaves_the_application_approving_and_approving_again_retries_it(world, monkeypatch):
    application_id = world.applied()
    real_open = accounts.open_account

    def unavailable(*args, **kwargs):
        raise RuntimeError("DynamoDB throttled the transaction")

    monkeypatch.setattr(accounts, "open_account", unavailable)
    status, body = world.approve("wangwu", application_id)
    assert (status, body["error"]["code"]) == (503, "account_opening_failed")
    assert "approve it again" in body["error"]["message"]
    stored = world.application(application_id)
    assert (stored.status, stored.decided_by, stored.opening_error) == ("approving", "wangwu", "RuntimeError")
    assert world.contact().account_status == "pending"
    status, body = world.reject("zhaoliu", application_id)  # the decision stands: approve won
    assert status == 409 and "approving" in body["error"]["message"]

    monkeypatch.setattr(accounts, "open_account", real_open)
    status, approved = world.approve("zhaoliu", application_id)
    assert status == 200, approved
    assert approved["status"] == "approved" and approved["decision"]["userId"] == "wangwu"
    assert approved["account"]["activationUrl"] and approved["openingError"] is None
    assert events(approved)[2:] == ["approved", "account_opening_failed", "opening_retried", "account_opened",
                                    "applicant_notified"]
    assert world.contact().account_status == "opened"


def test_an_opening_cut_short_is_held_until_its_lease_runs_out_then_retried(world, monkeypatch):
    application_id = world.applied()

    def crash(*args, **kwargs):
        raise LambdaCrash()

    real_open = accounts.open_account
    monkeypatch.setattr(accounts, "open_account", crash)
    with pytest.raises(LambdaCrash):
        applications.approve(world.tenant, world.caller("wangwu"), application_id)
    monkeypatch.setattr(accounts, "open_account", real_open)
    assert world.application(application_id).status == "approving"

    status, body = world.approve("zhaoliu", application_id)  # the first attempt may still be running
    assert status == 409 and "being opened" in body["error"]["message"]

    later = datetime.now(timezone.utc) + timedelta(seconds=applications.OPENING_LEASE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", later.timestamp)
    status, approved = world.approve("zhaoliu", application_id)
    assert status == 200 and approved["status"] == "approved"
    assert world.contact().account_status == "opened"


def test_an_account_opened_before_the_approval_was_recorded_is_adopted_not_opened_twice(world, monkeypatch):
    application_id = world.applied()
    finish = application_store.finish_approval

    def crash(*args, **kwargs):
        raise LambdaCrash()

    monkeypatch.setattr(application_store, "finish_approval", crash)
    with pytest.raises(LambdaCrash):
        applications.approve(world.tenant, world.caller("wangwu"), application_id)
    opened = world.contact()
    assert (opened.account_status, world.application(application_id).status) == ("opened", "approving")

    monkeypatch.setattr(application_store, "finish_approval", finish)
    later = datetime.now(timezone.utc) + timedelta(seconds=applications.OPENING_LEASE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", later.timestamp)
    status, approved = world.approve("wangwu", application_id)

    assert status == 200 and approved["status"] == "approved"
    assert approved["account"]["accountName"] == opened.account_name
    assert approved["account"]["activationUrl"] is None  # issued by the cut-short attempt; reissue it if lost
    assert "already had an account" in approved["history"][-2]["note"]


def test_an_account_given_directly_while_pending_settles_the_application(world):
    application_id = world.applied()
    reply = world.client.http.put(f"/api/directory/contacts/{world.contact_id}/account", headers=world.as_("sunqi"),
                                  body=json.dumps({"delivery": "activation"}))
    assert reply.status_code == 201, reply.body

    status, approved = world.approve("wangwu", application_id)
    assert status == 200 and approved["status"] == "approved"
    assert approved["account"]["accountName"] == world.contact().account_name


def test_a_rejection_after_the_account_was_given_directly_leaves_the_account_alone(world):
    application_id = world.applied()
    reply = world.client.http.put(f"/api/directory/contacts/{world.contact_id}/account", headers=world.as_("sunqi"),
                                  body=json.dumps({"delivery": "activation"}))
    assert reply.status_code == 201, reply.body

    status, rejected = world.reject("wangwu", application_id)

    assert status == 200 and rejected["status"] == "rejected"
    assert world.contact().account_status == "opened"


def test_an_application_for_a_contact_deleted_meanwhile_is_cancelled_or_rejected_alone(world):
    from chalicelib.directory.contacts import delete_contact

    approve_me, reject_me = world.applied(), world.applied("zhangsan", world.new_contact("李总"))
    rejected_contact = world.application(reject_me).contact_id
    for contact_id in (world.contact_id, rejected_contact):
        delete_contact(world.caller("zhangsan"), contact_id)

    status, body = world.approve("wangwu", approve_me)
    assert (status, body["error"]["code"]) == (404, "contact_not_found")
    assert world.application(approve_me).status == "cancelled"
    assert account_store.account_of(world.tenant.tenant_key, world.contact_id) is None
    status, rejected = world.reject("wangwu", reject_me)
    assert status == 200 and rejected["status"] == "rejected"
    assert world.contact(rejected_contact) is None
    assert ids(world.listing("zhaoliu", "status=cancelled")[1]) == [approve_me]


# --- notifications never block ----------------------------------------------------------------------------------------
def test_wecom_failing_to_deliver_blocks_nothing(world, simulator, pump, monkeypatch):
    hide = queues.set_visibility
    monkeypatch.setattr(queues, "set_visibility", lambda queue, receipt, _seconds: hide(queue, receipt, 0))  # no wait
    simulator.control.set_fault("message/send", errcode=-1)

    application_id = world.applied()
    assert pump.deliver_once(NOTIFICATIONS) == 1  # delivery failed: the message waits for its retry
    assert simulator.control.messages() == []

    status, approved = world.approve("wangwu", application_id)
    assert status == 200 and approved["status"] == "approved"
    assert world.contact().account_status == "opened"
    simulator.control.clear_faults()
    assert pump.drain(NOTIFICATIONS) == 2  # the approvers' card, retried, and the applicant's
    assert len(textcards(simulator, "wangwu")) == 1 and len(textcards(simulator, "zhangsan")) == 1


def test_the_queue_refusing_a_notification_is_noted_and_blocks_nothing(world, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(queues, "send", refuse)

    status, applied = world.apply("zhangsan")
    assert status == 201 and world.contact().account_status == "pending"
    status, approved = world.approve("wangwu", applied["applicationId"])

    assert status == 200 and approved["status"] == "approved"
    failed = [entry for entry in approved["history"] if entry["event"] == "notification_failed"]
    assert [(entry["users"], entry["note"]) for entry in failed] == [(["wangwu", "zhaoliu"], "ConnectionError"),
                                                                     (["zhangsan"], "ConnectionError")]


def test_an_application_nobody_can_approve_yet_says_so(world):
    role_store.revoke(world.tenant.tenant_key, "zhaoliu", role_store.DIRECTORY_MAINTAINER)
    role_store.revoke(world.tenant.tenant_key, "wangwu", role_store.dimension_role(world.dimension_id))

    status, applied = world.apply("zhangsan")

    assert status == 201 and applied["approvers"] == []
    assert applied["history"][1] == {"at": applied["history"][1]["at"], "event": "notified", "actor": None,
                                     "note": "no one to notify", "users": []}


# --- the back office list ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def back_office(module_demo_tenant, module_client, module_sign_in) -> tuple[World, list[str]]:
    """A world with five applications, built once: the list tests only read it. Oldest first: a1 approved by wangwu,
    a2 rejected by zhaoliu (zhangsan's, 华东客户); a3 approved by zhouba (lisi's, 华南客户); a4 pending (zhangsan's,
    华东客户); a5 pending (lisi's, 华南客户)."""
    world = build_world(module_demo_tenant, module_client, module_sign_in)
    east = [world.new_contact(f"华东{n}") for n in range(3)]
    south = [world.new_contact(f"华南{n}", adder="lisi", organisation_id=world.other_organisation_id)
             for n in range(2)]
    a1 = world.applied("zhangsan", east[0])
    assert world.approve("wangwu", a1)[0] == 200
    a2 = world.applied("zhangsan", east[1])
    assert world.reject("zhaoliu", a2)[0] == 200
    a3 = world.applied("lisi", south[0])
    assert world.approve("zhouba", a3)[0] == 200
    a4 = world.applied("zhangsan", east[2])
    a5 = world.applied("lisi", south[1])
    return world, [a1, a2, a3, a4, a5]


def ids(body: dict) -> list[str]:
    return [item["applicationId"] for item in body["items"]]


def pages(world: World, user_id: str, query: str) -> list[list[str]]:
    """Every page of a listing, following the cursors. A full last page may be followed by an empty one (DynamoDB
    hands out a LastEvaluatedKey when it reached the page's limit, whether or not more items follow): dropped."""
    found, cursor = [], None
    while True:
        status, body = world.listing(user_id, query + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        found.append(ids(body))
        cursor = body["nextCursor"]
        if not cursor:
            return found[:-1] if len(found) > 1 and not found[-1] else found


LIST_CASES = [  # (who, query, which of a1..a5 in the answer)
    ("zhaoliu", "", [5, 4, 3, 2, 1]),  # 外部互联维护: everything, newest first
    ("sunqi", "", [5, 4, 3, 2, 1]),  # admins too
    ("zhaoliu", "status=pending", [5, 4]),
    ("zhaoliu", "status=approved", [3, 1]),
    ("zhaoliu", "status=rejected", [2]),
    ("zhaoliu", "applicant=lisi", [5, 3]),
    ("zhaoliu", "applicant=zhangsan&status=pending", [4]),
    ("zhaoliu", "approver=zhaoliu", [2]),  # the approver filter is the member who decided
    ("zhaoliu", "approver=zhouba&status=approved", [3]),
    ("zhaoliu", "approver=zhangsan", []),
    ("wangwu", "", [4, 2, 1]),  # a dimension's maintainer: that dimension's applications
    ("wangwu", "status=approved", [1]),
    ("wangwu", "applicant=lisi", []),
    ("wangwu", "approver=zhaoliu", [2]),
    ("zhouba", "", [5, 3]),
    ("lisi", "applicant=lisi", [5, 3]),  # anyone: their own applications
]


def test_the_list_filters(back_office):
    world, applied = back_office
    for user_id, query, expected in LIST_CASES:
        status, body = world.listing(user_id, query)

        assert status == 200, (user_id, query, body)
        assert ids(body) == [applied[n - 1] for n in expected], (user_id, query)
        assert body["nextCursor"] is None
        for item in body["items"]:
            assert "history" not in item and "activationUrl" not in (item["account"] or {})


def test_the_list_pages_newest_first_with_a_cursor(back_office):
    world, (a1, a2, a3, a4, a5) = back_office
    assert pages(world, "zhaoliu", "limit=2") == [[a5, a4], [a3, a2], [a1]]
    assert pages(world, "zhaoliu", "limit=1&applicant=zhangsan") == [[a4], [a2], [a1]]
    assert pages(world, "zhaoliu", "limit=1&status=approved") == [[a3], [a1]]
    assert pages(world, "wangwu", "limit=1&status=approved") == [[a1]]  # a filtered page reads past the others


def test_a_forged_or_another_tenants_cursor_is_refused(back_office):
    import base64

    from chalicelib.core import cursors

    world, ids = back_office
    status, first = world.listing("zhaoliu", "limit=2")
    assert status == 200 and first["nextCursor"]
    after = ids[3]  # a real application id, where the genuine cursor points
    unsigned = base64.urlsafe_b64encode(after.encode()).decode().rstrip("=")
    elsewhere = cursors.encode_one(after, scope="account-applications:tnsomeoneelse")
    genuine = first["nextCursor"]
    tampered = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    for forged in (unsigned, elsewhere, tampered):
        status, body = world.listing("zhaoliu", f"limit=2&cursor={forged}")
        assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_a_maintainer_of_several_dimensions_gets_one_list_merged_from_them(back_office):
    world, (a1, a2, a3, a4, a5) = back_office  # wujiu's roles, granted here, matter to no other list test
    for dimension_id in (world.dimension_id, world.other_dimension_id):
        role_store.grant(world.tenant.tenant_key, "wujiu", role_store.dimension_role(dimension_id), "test")

    assert pages(world, "wujiu", "limit=2") == [[a5, a4], [a3, a2], [a1]]
    assert pages(world, "wujiu", "limit=3&status=approved") == [[a3, a1]]
    assert pages(world, "wujiu", "limit=10") == [[a5, a4, a3, a2, a1]]


def test_the_list_filters_by_date(back_office):
    world, applied = back_office
    today = datetime.now(timezone.utc).date()
    day = timedelta(days=1)
    assert ids(world.listing("zhaoliu", f"from={today}&to={today}")[1]) == applied[::-1]
    assert ids(world.listing("zhaoliu", f"from={today + day}")[1]) == []
    assert ids(world.listing("zhaoliu", f"to={today - day}")[1]) == []
    third = world.application(applied[2]).applied_at.isoformat()
    assert ids(world.listing("zhaoliu", f"from={third.replace('+00:00', 'Z')}")[1]) == applied[:1:-1]
    assert ids(world.listing("zhaoliu", f"to={third.replace('+00:00', 'Z')}&status=approved")[1]) == [
        applied[2], applied[0]]


REFUSALS = [  # (who, query, status, code)
    ("lisi", "", 403, "forbidden"),  # an ordinary member, not asking for their own
    ("lisi", "applicant=zhangsan", 403, "forbidden"),
    ("zhaoliu", "status=approving-ish", 400, "invalid_status"),
    ("zhaoliu", "cursor=bm90LWFuLWlk", 400, "invalid_cursor"),  # base64 of something that is no application id
    ("zhaoliu", "cursor=%%%", 400, "invalid_cursor"),
    ("zhaoliu", "limit=0", 400, "invalid_limit"),
    ("zhaoliu", "limit=101", 400, "invalid_limit"),
    ("zhaoliu", "from=yesterday", 400, "invalid_from"),
    ("zhaoliu", "to=2025-13-01", 400, "invalid_to"),
]


def test_the_list_refuses(world):
    for user_id, query, status, code in REFUSALS:
        got, body = world.listing(user_id, query)
        assert (got, body["error"]["code"]) == (status, code), (user_id, query)


def test_pages_merge_sources_only_as_far_as_every_source_was_read():
    def item(application_id: str) -> application_store.Application:
        return application_store.Application("t", application_id)

    def read(found: list[str], evaluated_to: str | None) -> application_store.Read:
        return application_store.Read([item(i) for i in found], evaluated_to)

    merge = application_store.merge
    ids_of = lambda page: [i.application_id for i in page]  # noqa: E731
    # both exhausted: everything, no cursor
    page, after = merge([read(["9", "5"], None), read(["7"], None)], 5)
    assert (ids_of(page), after) == (["9", "7", "5"], None)
    # one source stopped at 6 (its budget): items below 6 wait for the next page, which starts after 6
    page, after = merge([read(["9", "5"], None), read(["7"], "6")], 5)
    assert (ids_of(page), after) == (["9", "7"], "6")
    # a full page: the cursor is its last item
    page, after = merge([read(["9", "5"], "5"), read(["8", "7"], "7")], 2)
    assert (ids_of(page), after) == (["9", "8"], "8")
    # exactly the last items: no cursor
    page, after = merge([read(["9"], None), read(["8"], None)], 2)
    assert (ids_of(page), after) == (["9", "8"], None)


# --- races, run concurrently against the emulator (atomic per request, as DynamoDB: see the `emulator` fixture) ------
def race(*calls) -> list:
    """Run the calls at once, each in its own thread (a Lambda invocation of its own); their results in order: the
    answer, or (status, code, message) for a refusal."""
    from chalicelib.core.errors import AppError

    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(n: int, call) -> None:
        start.wait()
        try:
            results[n] = call()
        except AppError as err:
            results[n] = (err.status, err.code, err.message)

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_approvers_at_once_one_wins_the_other_is_told_the_outcome(world, emulator):
    tenant, key = world.tenant, world.tenant.tenant_key
    for n in range(2):
        contact_id = world.new_contact(f"并发{n}")
        application_id = world.applied("zhangsan", contact_id)
        approvers = ["wangwu", "zhaoliu"]

        results = race(*[lambda who=who: applications.approve(tenant, world.caller(who), application_id)
                         for who in approvers])

        won = [n for n, result in enumerate(results) if isinstance(result, dict)]
        assert len(won) == 1, results
        [lost] = [result for result in results if not isinstance(result, dict)]
        assert lost[:2] == (409, "application_not_pending") and ("approv" in lost[2])
        stored = world.application(application_id)
        assert (stored.status, stored.decided_by) == ("approved", approvers[won[0]])
        contact = world.contact(contact_id)
        account = account_store.account_of(key, contact_id)
        assert (contact.account_status, contact.account_name) == ("opened", stored.account_name)
        assert account is not None and account.account_name == stored.account_name


def test_approve_racing_reject_ends_in_one_consistent_outcome(world, emulator):
    tenant, key = world.tenant, world.tenant.tenant_key
    outcomes = set()
    for n in range(2):
        contact_id = world.new_contact(f"竞态{n}")
        application_id = world.applied("zhangsan", contact_id)
        approve = lambda: applications.approve(tenant, world.caller("wangwu"), application_id)  # noqa: E731
        reject = lambda: applications.reject(tenant, world.caller("zhaoliu"), application_id, "重复申请")  # noqa: E731
        calls = (approve, reject) if n % 2 else (reject, approve)

        results = race(*calls)

        winners = [result for result in results if isinstance(result, dict)]
        losers = [result for result in results if not isinstance(result, dict)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0][:2] == (409, "application_not_pending")
        status = world.application(application_id).status
        assert status == winners[0]["status"]
        # the loser is told what it lost to: rejected, or approved (perhaps still approving: opening the account)
        assert losers[0][2].startswith(f"the application is {'approv' if status == 'approved' else status}")
        contact = world.contact(contact_id)
        if status == "approved":
            assert contact.account_status == "opened" and account_store.account_of(key, contact_id) is not None
        else:
            assert status == "rejected"
            assert contact.account_status == "none" and account_store.account_of(key, contact_id) is None
        outcomes.add(status)
    assert outcomes <= {"approved", "rejected"}


def test_five_concurrent_applications_for_one_contact_make_exactly_one(world, emulator):
    members = ["zhangsan", "lisi", "sunqi", "zhouba", "wujiu"]
    contact_id = world.new_contact("热门客户", visible=members)

    results = race(*[lambda who=who: applications.apply(world.tenant, world.caller(who), contact_id, "开通")
                     for who in members])

    made = [result for result in results if isinstance(result, dict)]
    assert len(made) == 1, results
    assert sorted(result[:2] for result in results if not isinstance(result, dict)) == [
        (409, "application_pending")] * 4
    assert world.contact(contact_id).account_status == "pending"
    listed = applications.list_applications(world.caller("zhaoliu"), {"status": "pending", "limit": "100"})
    assert [i["applicationId"] for i in listed["items"] if i["contactId"] == contact_id] == [
        made[0]["applicationId"]]


# --- the local stack's demo ---------------------------------------------------------------------------------------------
def test_the_demo_walkthrough_an_ordinary_user_applies_its_maintainer_approves_the_contact_signs_in(
        demo_tenant, client, sign_in, simulator, pump):
    """docs/accounts.md's walkthrough on the local stack's own demo directory (dev/seed_directory.py): lisi applies
    for 刘经理, whom he added; wangwu, maintainer of 合作伙伴, approves; 刘经理 activates and signs in."""
    from dev.seed_directory import seed_directory

    seed_directory(demo_tenant)
    contact_id, key = "ct-demo000000000001", demo_tenant.tenant_key
    lisi, wangwu = sign_in(demo_tenant, "lisi"), sign_in(demo_tenant, "wangwu")

    reply = client.http.post(f"/api/directory/contacts/{contact_id}/account-applications", headers=lisi,
                             body=json.dumps({"remark": "刘经理要看采购项目"}))
    assert reply.status_code == 201, reply.body
    applied = json.loads(reply.body)
    assert applied["approvers"] == ["wangwu"] and applied["status"] == "pending"
    pump.drain(NOTIFICATIONS)
    [card] = textcards(simulator, "wangwu")
    assert card["url"].endswith(f"/admin/account-applications/{applied['applicationId']}?tenantKey={key}")

    reply = client.http.post(f"/api/account-applications/{applied['applicationId']}/approve", headers=wangwu)
    assert reply.status_code == 200, reply.body
    account = json.loads(reply.body)["account"]
    token = urlparse(account["activationUrl"]).fragment.removeprefix("activate=")
    plain = {"Content-Type": "application/json"}
    reply = client.http.post("/api/external/activation", headers=plain,
                             body=json.dumps({"tenantKey": key, "token": token, "password": PASSWORD}))
    assert reply.status_code == 201, reply.body
    reply = client.http.post("/api/external/session/password", headers=plain, body=json.dumps(
        {"tenantKey": key, "account": account["accountName"], "password": PASSWORD}))
    assert reply.status_code == 201, reply.body
    session = {"Authorization": f"Bearer {json.loads(reply.body)['token']}"}
    me = json.loads(client.http.get("/api/external/me", headers=session).body)
    assert me["contact"]["contactId"] == contact_id and me["contact"]["name"] == "刘经理"
