"""From WeCom's push to the stored result: callbacks encrypted by the simulator, over HTTP, through the queue."""
from __future__ import annotations

import json

import pytest

from chalicelib.core import config
from chalicelib.store import contacts, members

QUEUE = config.resource_name("callbacks")
CUSTOMER = "wmYQdemoa9f7e97965d6cf799a529102"  # a WeChat user followed by zhangsan and lisi
WECOM_CUSTOMER = "wmYQdemocb7524d792327e4c443d619d"  # a WeCom user followed by zhangsan, wangwu and zhaoliu


@pytest.fixture
def push(simulator, app_server, demo_tenant, callbacks_queue):
    """Push a callback from the simulator to the demo tenant's callback URL; returns the app's answer."""

    def push_event(kind: str, **ids):
        answer = simulator.control.push(kind, f"{app_server}/wecom/callback/{demo_tenant.tenant_key}", **ids)
        assert (answer["status"], answer["body"]) == (200, "success"), answer
        return answer

    return push_event


def contact(tenant, external_userid):
    return contacts.get(tenant.tenant_key, contacts.customer_contact_id(external_userid))


def test_added_customer_becomes_one_contact_with_all_its_followers(push, pump, demo_tenant, callbacks_queue):
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    assert pump.drain(QUEUE) == 1
    assert callbacks_queue.in_flight() == 0
    stored = contact(demo_tenant, CUSTOMER)
    assert stored.wecom_customer is True
    assert set(stored.follow_users.as_dict()) == {"zhangsan", "lisi"}
    assert stored.source == "wecom_customer"
    assert stored.customer_type == 1
    assert stored.org_name == "微信客户" and stored.dimension_name == "企业微信客户"
    assert stored.security_level == 0 and stored.account_status == "none"


def test_wecom_user_lands_under_its_corp(push, pump, demo_tenant, simulator):
    push("add_external_contact", userid="wangwu", external_userid=WECOM_CUSTOMER)
    pump.drain(QUEUE)
    corp = simulator.control.customer(WECOM_CUSTOMER)["external_contact"]
    assert contact(demo_tenant, WECOM_CUSTOMER).org_name == (corp.get("corp_full_name") or corp["corp_name"])


def test_a_redelivered_event_is_applied_once_and_a_second_follower_changes_nothing(push, pump, demo_tenant, simulator):
    first = push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER, create_time=1790000000)
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER, create_time=1790000000)
    assert pump.drain(QUEUE) == 1
    assert first["status"] == 200
    written = contact(demo_tenant, CUSTOMER).updated_at
    push("add_external_contact", userid="lisi", external_userid=CUSTOMER)
    assert pump.drain(QUEUE) == 1
    assert contact(demo_tenant, CUSTOMER).updated_at == written
    assert len(simulator.control.calls(path="externalcontact/get")) == 2


def test_removed_followers_are_removed_and_the_last_one_inactivates(push, pump, demo_tenant, simulator):
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(QUEUE)
    simulator.control.remove_customer(CUSTOMER, userid="lisi")
    push("del_follow_user", userid="lisi", external_userid=CUSTOMER)
    pump.drain(QUEUE)
    assert set(contact(demo_tenant, CUSTOMER).follow_users.as_dict()) == {"zhangsan"}
    simulator.control.remove_customer(CUSTOMER, userid="zhangsan")
    push("del_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(QUEUE)
    stored = contact(demo_tenant, CUSTOMER)
    assert stored.wecom_customer is False and stored.inactive_at is not None
    assert stored.follow_users.as_dict() == {}
    assert stored.name


def test_delete_before_add_converges_to_no_contact(push, pump, demo_tenant, simulator):
    simulator.control.remove_customer(CUSTOMER)
    push("del_external_contact", userid="zhangsan", external_userid=CUSTOMER, create_time=1790000002)
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER, create_time=1790000001)
    assert pump.drain(QUEUE) == 2
    assert contact(demo_tenant, CUSTOMER) is None


def test_edit_before_add_converges_to_one_contact(push, pump, demo_tenant):
    push("edit_external_contact", userid="lisi", external_userid=CUSTOMER, create_time=1790000005)
    push("add_external_contact", userid="lisi", external_userid=CUSTOMER, create_time=1790000004)
    assert pump.drain(QUEUE) == 2
    contacts_of_customer = [c for c in contacts.Contact.query(demo_tenant.tenant_key) if c.external_userid == CUSTOMER]
    assert len(contacts_of_customer) == 1


def test_auto_sync_off_creates_nothing(push, pump, demo_tenant):
    demo_tenant.update(actions=[type(demo_tenant).settings.auto_sync_customers.set(False)])
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(QUEUE)
    assert contact(demo_tenant, CUSTOMER) is None


def test_a_customer_who_is_a_team_member_is_skipped(push, pump, demo_tenant, simulator):
    sunqi_on_wechat = "wmYQdemo4d3a21d8c684c09c19b93be9"  # the demo customer whose unionid is member 孙七's
    unionid = simulator.control.customer(sunqi_on_wechat)["external_contact"]["unionid"]
    members.upsert(demo_tenant.tenant_key, "sunqi", "孙七", [1])
    members.set_unionid(demo_tenant.tenant_key, "sunqi", unionid)
    push("add_external_contact", userid="zhangsan", external_userid=sunqi_on_wechat)
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    assert pump.drain(QUEUE) == 2
    assert contact(demo_tenant, sunqi_on_wechat) is None
    assert contact(demo_tenant, CUSTOMER) is not None


def test_transfer_failure_is_recorded_on_the_contact(push, pump, demo_tenant):
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(QUEUE)
    push("transfer_fail", userid="zhangsan", external_userid=CUSTOMER, fail_reason="customer_refused")
    pump.drain(QUEUE)
    assert contact(demo_tenant, CUSTOMER).transfer_failure.as_dict()["reason"] == "customer_refused"


def test_member_rename_and_departure(push, pump, demo_tenant, simulator):
    push("update_user", userid="zhaoliu")
    pump.drain(QUEUE)
    assert members.get(demo_tenant.tenant_key, "zhaoliu").name == simulator.control.member("zhaoliu")["name"]
    renamed = dict(simulator.control.member("zhaoliu"), userid="zhaoliu2")
    simulator.control.remove_member("zhaoliu")
    simulator.control.add_member(renamed)
    push("update_user", userid="zhaoliu", new_userid="zhaoliu2")
    pump.drain(QUEUE)
    assert members.get(demo_tenant.tenant_key, "zhaoliu").renamed_to == "zhaoliu2"
    assert members.get(demo_tenant.tenant_key, "zhaoliu2").status == "active"
    simulator.control.remove_member("zhaoliu2")
    push("delete_user", userid="zhaoliu2")
    pump.drain(QUEUE)
    assert members.get(demo_tenant.tenant_key, "zhaoliu2").status == "gone"


def test_a_stale_delete_user_leaves_a_member_wecom_still_has_signed_in_with_their_roles(
        push, pump, demo_tenant, simulator, client, sign_in):
    """A delete_user delivered after a newer create_user (the member left and came back under the same userid):
    WeCom's user/get still answers, so the member keeps their session and roles. A real departure (user/get 60111)
    still ends both."""
    from chalicelib.store import roles

    headers = sign_in(demo_tenant, "zhaoliu", roles=("admin",))
    push("delete_user", userid="zhaoliu", create_time=1790000100)
    push("create_user", userid="zhaoliu", create_time=1790000200)
    assert pump.drain(QUEUE) == 2
    assert members.get(demo_tenant.tenant_key, "zhaoliu").status == "active"
    assert roles.roles_of(demo_tenant.tenant_key, "zhaoliu") == {"admin"}
    assert client.http.get("/api/auth/session", headers=headers).status_code == 200

    simulator.control.remove_member("zhaoliu")
    push("delete_user", userid="zhaoliu", create_time=1790000300)
    assert pump.drain(QUEUE) == 1
    assert members.get(demo_tenant.tenant_key, "zhaoliu").status == "gone"
    assert roles.roles_of(demo_tenant.tenant_key, "zhaoliu") == frozenset()
    assert client.http.get("/api/auth/session", headers=headers).status_code == 401


def test_a_failing_message_is_retried_alone_and_the_rest_of_the_batch_commits(
        push, pump, demo_tenant, callbacks_queue, monkeypatch):
    from chalicelib.directory import customers

    real_refresh = customers.refresh

    def crash_on(tenant, client, external_userid, create=True):
        if external_userid == WECOM_CUSTOMER:
            raise RuntimeError("consumer crashed mid-batch")
        return real_refresh(tenant, client, external_userid, create)

    monkeypatch.setattr(customers, "refresh", crash_on)
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    push("add_external_contact", userid="zhangsan", external_userid=WECOM_CUSTOMER)
    assert pump.deliver_once(QUEUE) == 2
    assert contact(demo_tenant, CUSTOMER) is not None
    assert contact(demo_tenant, WECOM_CUSTOMER) is None
    assert callbacks_queue.messages() == []  # the failed one is hidden for its backoff, not deleted
    monkeypatch.setattr(customers, "refresh", real_refresh)
    [left] = callbacks_queue.wait_for_messages()
    assert left["body"]["event"]["ExternalUserID"] == WECOM_CUSTOMER
    assert pump.drain(QUEUE) == 1
    assert contact(demo_tenant, WECOM_CUSTOMER) is not None


def test_after_the_last_attempt_a_message_is_dead_lettered_with_its_reason(demo_tenant, callbacks_queue, monkeypatch):
    from chalice.app import SQSEvent

    from chalicelib.directory import customers
    from chalicelib.handlers.callback_queue import process_callbacks

    def crash(*_args, **_kwargs):
        raise RuntimeError("still broken")

    monkeypatch.setattr(customers, "refresh", crash)
    body = json.dumps({"tenantKey": demo_tenant.tenant_key, "event": {
        "ToUserName": demo_tenant.corp_id, "CreateTime": "1790000009", "MsgType": "event",
        "Event": "change_external_contact", "ChangeType": "add_external_contact", "UserID": "zhangsan",
        "ExternalUserID": CUSTOMER}})
    records = {"Records": [{"messageId": "m-last", "receiptHandle": "r", "body": body,
                            "attributes": {"ApproximateReceiveCount": "5"}, "messageAttributes": {},
                            "eventSourceARN": "arn:aws:sqs:x:0:q", "awsRegion": "x"}]}
    assert process_callbacks.func(SQSEvent(records, None)) == {"batchItemFailures": []}
    [dead] = callbacks_queue.messages(dlq=True)
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "retries_exhausted"
    assert "still broken" in dead["MessageAttributes"]["detail"]["StringValue"]
    assert dead["body"]["event"]["ExternalUserID"] == CUSTOMER


def test_a_message_for_an_unknown_tenant_is_dead_lettered_at_once(pump, callbacks_queue):
    from chalicelib.store import queues

    queues.send("callbacks", {"tenantKey": "tnmissing01", "event": {"MsgType": "event", "Event": "change_contact",
                                                                     "ChangeType": "delete_user", "UserID": "a"}})
    pump.drain(QUEUE)
    assert callbacks_queue.messages() == []
    [dead] = callbacks_queue.messages(dlq=True)
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "tenant_not_found"
