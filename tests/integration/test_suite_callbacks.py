"""The third-party suite's callback URL: instructions addressed to the suite, data addressed to authorised corps."""
from __future__ import annotations

import json

import pytest

from chalicelib.core import config
from chalicelib.store import secrets, wecom_state
from chalicelib.store import tenants as tenant_store

QUEUE = config.resource_name("callbacks")
SUITE_ID = "wwsuitedemo0001"
AUTHORISING_CORP = "wwdemo0002"


def queued_for(tenant_key: str, queue: str) -> list[dict]:
    """Take (receive and delete) the messages for this tenant from a queue, so no other test's pump meets them."""
    from chalicelib.core.aws import client
    from chalicelib.store import queues

    sqs, url, taken = client("sqs"), queues.url(queue), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            body = json.loads(message["Body"])
            if body.get("tenantKey") == tenant_key:
                taken.append(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken


@pytest.fixture
def suite_url(app_server, demo_tenant):
    """The suite's callback URL; demo_tenant seeds the suite's secret from the scenario."""
    return f"{app_server}/wecom/suite/{SUITE_ID}/callback"


def test_url_verification_answers_the_plain_echo(simulator, suite_url):
    answer = simulator.control.verify_url(suite_url, suite_id=SUITE_ID)
    assert answer["status"] == 200 and answer["ok"] is True


def test_suite_ticket_is_acknowledged_with_success_and_stored(simulator, suite_url, pump, callbacks_queue):
    answer = simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID, suite_ticket="ticket-from-test")
    assert (answer["status"], answer["body"]) == (200, "success")
    [message] = callbacks_queue.messages()
    assert message["body"]["suiteId"] == SUITE_ID and "tenantKey" not in message["body"]
    pump.drain(QUEUE)
    assert callbacks_queue.in_flight() == 0
    assert wecom_state.suite_ticket(SUITE_ID) == "ticket-from-test"


def test_an_unknown_suite_is_404(app_server, simulator, demo_tenant, callbacks_queue):
    answer = simulator.control.push("suite_ticket", f"{app_server}/wecom/suite/wwnosuchsuite/callback", suite_id=SUITE_ID)
    assert answer["status"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "suite_not_found"
    assert callbacks_queue.messages() == []


def test_data_callback_for_a_corp_that_never_authorised_is_404(simulator, suite_url, callbacks_queue):
    answer = simulator.control.push("add_external_contact", suite_url, via="suite_data", userid="zhangsan",
                                    external_userid="wmx", corpid="wwdemo0001")
    assert answer["status"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "tenant_not_found"
    assert callbacks_queue.messages() == []


def test_create_auth_onboards_the_corp_then_cancel_auth_disables_it(simulator, suite_url, pump, callbacks_queue):
    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    pump.drain(QUEUE)
    answer = simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    assert (answer["status"], answer["body"]) == (200, "success")
    pump.drain(QUEUE)
    assert callbacks_queue.in_flight() == 0 and callbacks_queue.messages(dlq=True) == []
    tenant = tenant_store.find_by_corp(AUTHORISING_CORP)
    assert tenant is not None and tenant.mode == "suite" and tenant.enabled
    assert queued_for(tenant.tenant_key, "sync") and queued_for(tenant.tenant_key, "profile-links")
    permanent = secrets.get(tenant.secret_id)["permanent_code"]
    assert permanent == "demo-permanent-code-0002"
    assert permanent not in json.dumps(tenant.attribute_values, default=str)

    data = simulator.control.push("add_external_contact", suite_url, via="suite_data", userid="admin2",
                                  external_userid="wmx", corpid=AUTHORISING_CORP)
    assert data["status"] == 200
    [message] = [m for m in callbacks_queue.messages() if m["body"].get("tenantKey") == tenant.tenant_key]
    assert message["body"]["event"]["ExternalUserID"] == "wmx"

    simulator.control.rename_corp(AUTHORISING_CORP, "新名字科技", "新名字科技有限公司")
    simulator.control.push("change_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(QUEUE)
    changed = tenant_store.get(tenant.tenant_key)
    assert (changed.corp_name, changed.corp_full_name, changed.name, changed.enabled) == (
        "新名字科技", "新名字科技有限公司", "新名字科技有限公司", True)

    simulator.control.push("cancel_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(QUEUE)
    assert tenant_store.get(tenant.tenant_key).enabled is False


def test_the_member_who_installed_the_suite_becomes_its_first_admin_and_can_run_its_sync(
        simulator, suite_url, pump, callbacks_queue, client, sign_in):
    from chalicelib.store import roles

    earlier = tenant_store.find_by_corp(AUTHORISING_CORP)  # an earlier test of this session may have onboarded it
    if earlier is not None:
        for user_id in roles.holders(earlier.tenant_key, roles.ADMIN):
            roles.revoke(earlier.tenant_key, user_id, roles.ADMIN)
    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(QUEUE)
    assert callbacks_queue.messages(dlq=True) == []
    tenant = tenant_store.find_by_corp(AUTHORISING_CORP)
    assert roles.holders(tenant.tenant_key, roles.ADMIN) == ["admin2"]  # auth_user_info.userid in the simulator
    queued_for(tenant.tenant_key, "sync")

    admin = sign_in(tenant, "admin2")
    started = client.http.post(f"/api/admin/tenants/{tenant.tenant_key}/sync", headers=admin)
    assert started.status_code == 202, started.body
    staff = sign_in(tenant, "staff2")
    refused = client.http.post(f"/api/admin/tenants/{tenant.tenant_key}/sync", headers=staff)
    assert refused.status_code == 403 and json.loads(refused.body)["error"]["code"] == "admin_required"
    queued_for(tenant.tenant_key, "sync")


def test_a_second_create_auth_keeps_the_admins_the_tenant_has(simulator, suite_url, pump, callbacks_queue):
    from chalicelib.store import roles

    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(QUEUE)
    tenant = tenant_store.find_by_corp(AUTHORISING_CORP)
    for user_id in roles.holders(tenant.tenant_key, roles.ADMIN):
        roles.revoke(tenant.tenant_key, user_id, roles.ADMIN)
    roles.grant(tenant.tenant_key, "staff2", roles.ADMIN, "admin2")  # the admins chose another admin meanwhile
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)  # installed again
    pump.drain(QUEUE)
    assert callbacks_queue.messages(dlq=True) == []
    assert roles.holders(tenant.tenant_key, roles.ADMIN) == ["staff2"]
    queued_for(tenant.tenant_key, "sync")


def test_a_share_change_queues_a_run_of_the_chains_and_shared_corps(simulator, suite_url, pump, callbacks_queue):
    simulator.control.push("suite_ticket", suite_url, suite_id=SUITE_ID)
    simulator.control.push("create_auth", suite_url, suite_id=SUITE_ID, corpid=AUTHORISING_CORP)
    pump.drain(QUEUE)
    tenant = tenant_store.find_by_corp(AUTHORISING_CORP)
    queued_for(tenant.tenant_key, "sync")  # create_auth's own run
    answer = simulator.control.push("share_chain_change", suite_url, via="suite", suite_id=SUITE_ID,
                                    corpid=AUTHORISING_CORP)
    assert (answer["status"], answer["body"]) == (200, "success")
    pump.drain(QUEUE)
    assert callbacks_queue.messages(dlq=True) == []
    [run] = queued_for(tenant.tenant_key, "sync")
    assert run["trigger"] == "share_chain_change" and run["scope"] == {"customers": False, "chains": None}
