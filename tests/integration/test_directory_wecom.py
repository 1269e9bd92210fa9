"""WeCom customers in the front list: the scheduled sync and the callbacks keep every follower's front list in step
(the `contact-access` index), alongside the relations people add in Yunqiao; the fields WeCom owns stay WeCom's."""
from __future__ import annotations

import pytest

from chalicelib.sync import checkpoint as sync_checkpoint, triggers as sync_triggers
from chalicelib.core import config
from chalicelib.directory import contact_writes
from chalicelib.directory import contacts as directory
from chalicelib.auth.identity import Caller
from chalicelib.store import contacts, roles, sync_runs
from tests.integration.api_support import body, error_code
from tests.integration.directory_support import Api, front_list_ids

SYNC_QUEUE = config.resource_name("sync")
CALLBACK_QUEUE = config.resource_name("callbacks")
CUSTOMER = "wmYQdemoa9f7e97965d6cf799a529102"  # a WeChat user followed by zhangsan and lisi
WECOM_CUSTOMER = "wmYQdemocb7524d792327e4c443d619d"  # a WeCom user followed by zhangsan, wangwu and zhaoliu
MEMBERS = ("zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi", "zhouba", "wujiu", "zhengshi")


def run_sync(tenant, pump) -> None:
    run_id = sync_triggers.queue_run(tenant, "admin")
    pump.drain(SYNC_QUEUE)
    record = sync_runs.get_run(tenant.tenant_key, run_id)
    assert record is not None and record.status == sync_runs.SUCCEEDED, record and sync_checkpoint.describe_run(record)


def followed_by(tenant) -> dict[str, set[str]]:
    """Who should see which customer: every stored contact's followers (a test-only read of the whole table)."""
    expected: dict[str, set[str]] = {member: set() for member in MEMBERS}
    for contact in contacts.Contact.query(tenant.tenant_key):
        for user_id in contact_writes.members_of(contact):
            expected.setdefault(user_id, set()).add(contact.contact_id)
    return expected


@pytest.fixture
def apis(client, sign_in, demo_tenant):
    return {member: Api(client, sign_in(demo_tenant, member)) for member in ("zhangsan", "lisi", "wangwu", "zhengshi")}


def test_after_a_sync_every_follower_sees_their_customers(demo_tenant, pump, apis):
    run_sync(demo_tenant, pump)
    expected = followed_by(demo_tenant)
    assert len(expected["zhangsan"]) >= 3 and contacts.customer_contact_id(CUSTOMER) not in expected["zhengshi"]
    for member, api in apis.items():
        assert set(front_list_ids(api, limit=2)) == expected[member], member
    customer_id = contacts.customer_contact_id(CUSTOMER)
    seen = apis["lisi"].get(f"/api/directory/contacts/{customer_id}")
    assert seen.status_code == 200 and body(seen)["followUsers"] == ["lisi", "zhangsan"]
    assert body(seen)["permissions"] == {"edit": False, "share": False, "account": False, "delete": False}
    assert apis["zhengshi"].get(f"/api/directory/contacts/{customer_id}").status_code == 404
    groups = body(apis["zhangsan"].get("/api/directory/contacts?limit=200"))["groups"]
    by_org = {group["orgName"]: [c["name"] for c in group["contacts"]] for group in groups}
    assert "周经理" in by_org["深圳星河贸易有限公司"] and "陈先生" in by_org["微信客户"]
    assert front_list_ids(apis["zhangsan"], q="陈先") == [customer_id]


def test_followers_leaving_and_people_sharing_keep_the_lists_in_step(demo_tenant, pump, apis, simulator):
    run_sync(demo_tenant, pump)
    customer_id = contacts.customer_contact_id(CUSTOMER)
    admin = Caller(demo_tenant.tenant_key, "boss", frozenset({roles.ADMIN}))
    directory.set_visible_members(admin, customer_id, ["lisi", "zhengshi"])
    assert customer_id in front_list_ids(apis["zhengshi"])

    simulator.control.remove_customer(CUSTOMER, userid="lisi")
    simulator.control.remove_customer(CUSTOMER, userid="zhangsan")
    run_sync(demo_tenant, pump)
    stored = contacts.get(demo_tenant.tenant_key, customer_id)
    assert contacts.follower_ids(stored) == set() and stored.inactive_at is not None
    assert customer_id not in front_list_ids(apis["zhangsan"])
    # lisi stopped following but is a visible member: the relation people added stays
    assert customer_id in front_list_ids(apis["lisi"]) and customer_id in front_list_ids(apis["zhengshi"])
    assert apis["zhangsan"].get(f"/api/directory/contacts/{customer_id}").status_code == 404
    assert set(front_list_ids(apis["wangwu"])) == followed_by(demo_tenant)["wangwu"]


def test_wecom_fields_stay_wecom_s_but_people_may_add_theirs(demo_tenant, pump, apis, client, sign_in, simulator):
    run_sync(demo_tenant, pump)
    admin = Api(client, sign_in(demo_tenant, "wujiu", roles=(roles.ADMIN,)))
    customer_id = contacts.customer_contact_id(WECOM_CUSTOMER)
    path = f"/api/directory/contacts/{customer_id}"
    renamed = admin.patch(path, {"name": "改名"})
    assert renamed.status_code == 409 and error_code(renamed) == "field_synced"
    added = admin.patch(path, {"mobile": "13511112222", "remark": "重要客户"})
    assert added.status_code == 200 and body(added)["mobile"] == "13511112222"
    deleted = admin.delete(path)
    assert deleted.status_code == 409 and error_code(deleted) == "contact_synced"
    assert "come back" in body(deleted)["error"]["message"]
    assert front_list_ids(apis["wangwu"], q="1351111") == [customer_id]

    customer = simulator.control.customer(WECOM_CUSTOMER)
    customer["external_contact"]["name"] = "周总监"
    simulator.control.add_customer({**customer["external_contact"], "follow_users": customer["follow_user"]})
    run_sync(demo_tenant, pump)
    entry = next(c for g in body(apis["wangwu"].get("/api/directory/contacts?limit=200"))["groups"]
                 for c in g["contacts"] if c["contactId"] == customer_id)
    assert (entry["name"], entry["mobile"]) == ("周总监", "13511112222")


@pytest.fixture
def push(simulator, app_server, demo_tenant, callbacks_queue):
    def push_event(kind: str, **ids) -> None:
        answer = simulator.control.push(kind, f"{app_server}/wecom/callback/{demo_tenant.tenant_key}", **ids)
        assert (answer["status"], answer["body"]) == (200, "success"), answer

    return push_event


def test_callbacks_add_and_remove_customers_from_their_followers_lists(push, pump, demo_tenant, apis, simulator):
    customer_id = contacts.customer_contact_id(CUSTOMER)
    push("add_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    assert pump.drain(CALLBACK_QUEUE) == 1
    assert customer_id in front_list_ids(apis["zhangsan"]) and customer_id in front_list_ids(apis["lisi"])
    assert front_list_ids(apis["wangwu"]) == []

    simulator.control.remove_customer(CUSTOMER, userid="lisi")
    push("del_follow_user", userid="lisi", external_userid=CUSTOMER)
    pump.drain(CALLBACK_QUEUE)
    assert customer_id not in front_list_ids(apis["lisi"])
    assert apis["lisi"].get(f"/api/directory/contacts/{customer_id}").status_code == 404
    assert customer_id in front_list_ids(apis["zhangsan"])

    simulator.control.remove_customer(CUSTOMER, userid="zhangsan")
    push("del_external_contact", userid="zhangsan", external_userid=CUSTOMER)
    pump.drain(CALLBACK_QUEUE)
    assert front_list_ids(apis["zhangsan"]) == []
