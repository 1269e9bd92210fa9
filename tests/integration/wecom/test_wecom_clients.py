"""`client_for_tenant`: a tenant record and its secrets in the emulator become a working client for its corp."""
from __future__ import annotations

import pytest

from chalicelib.core import config
from chalicelib.tenants import onboarding
from chalicelib.tenants import wecom_clients
from chalicelib.store import secrets, wecom_state
from chalicelib.store.wecom_state import DynamoPermitStore
from chalicelib.wecom.errors import RateLimited, WeComApiError
from chalicelib.wecom.ratelimit import RateLimiter
from tests.integration.conftest import DEMO_SECRETS
from tests.integration.wecom.conftest import (
    APP_SECRET,
    AUTH_CODE,
    CONTACTS_SECRET,
    CUSTOMER_SECRET,
    DEMO_CORP,
    SUITE_CORP,
    SUITE_ID,
    SUITE_SECRET,
    SUITE_TICKET,
    WindowClock,
    gettoken_calls,
)


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch, token_cache):
    """Each test starts like a new Lambda instance: no cached token sources or suite client."""
    monkeypatch.setattr(wecom_clients, "_sources", {})
    monkeypatch.setattr(wecom_clients, "_suites", {})
    monkeypatch.setattr(wecom_clients, "_downstream", {})
    monkeypatch.setattr(wecom_clients, "_tickets", {})


@pytest.fixture
def self_built_tenant(simulator):
    wecom_secrets = {
        **DEMO_SECRETS,
        "contacts_secret": CONTACTS_SECRET,
        "customer_secret": CUSTOMER_SECRET,
        "app_secret": APP_SECRET,
    }
    return onboarding.create_self_built(
        name="演示团队", corp_id=DEMO_CORP, agent_id="1000002", wecom_secrets=wecom_secrets
    )


def test_a_self_built_tenant_uses_its_three_secrets(self_built_tenant, simulator):
    wecom = wecom_clients.client_for_tenant(self_built_tenant)
    assert wecom.corpid == DEMO_CORP and wecom.agentid == 1000002
    assert wecom.get_member("zhangsan")["name"] == "张三"
    assert "zhangsan" in wecom.follow_users()
    wecom.send_message(["zhangsan"], text="你好")
    secrets_used = [c["query"]["corpsecret"] for c in gettoken_calls(simulator)]
    assert secrets_used == [CONTACTS_SECRET, CUSTOMER_SECRET, APP_SECRET]


def test_token_sources_are_kept_per_tenant_until_its_secrets_change(self_built_tenant, simulator):
    first = wecom_clients.client_for_tenant(self_built_tenant)
    again = wecom_clients.client_for_tenant(self_built_tenant, wait_for_permits=False)
    assert again._contacts is first._contacts
    secrets.merge(self_built_tenant.secret_id, {"contacts_secret": "rotated-secret"})
    rotated = wecom_clients.client_for_tenant(self_built_tenant)
    assert rotated._contacts is not first._contacts
    assert rotated._app is not first._app


def test_a_consumer_client_raises_rate_limited_instead_of_waiting(self_built_tenant, monkeypatch, simulator):
    clock = WindowClock()
    limiter = RateLimiter(DynamoPermitStore(), per_minute=2, block=2, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(wecom_clients, "rate_limiter", lambda: limiter)
    wecom = wecom_clients.client_for_tenant(self_built_tenant, wait_for_permits=False)
    wecom.get_member("zhangsan")
    wecom.get_member("lisi")
    with pytest.raises(RateLimited):
        wecom.get_member("wangwu")
    assert len(simulator.control.calls(path="user/get")) == 2


def test_a_suite_tenant_uses_one_corp_token_for_everything(simulator, monkeypatch):
    suite_secret_id = f"yunqiao/local/suite-{onboarding.new_tenant_key()}"
    monkeypatch.setenv("YQ_SUITE_SECRET_ID", suite_secret_id)
    secrets.put(
        config.suite_secret_id(),
        {"suite_id": SUITE_ID, "suite_secret": SUITE_SECRET, "callback_token": "t", "callback_aes_key": "k"},
    )
    wecom_state.save_suite_ticket(SUITE_ID, SUITE_TICKET)
    auth = wecom_clients.suite_client().permanent_code(AUTH_CODE)
    tenant = onboarding.create_suite_tenant(
        corp_id=auth["auth_corp_info"]["corpid"],
        corp_name=auth["auth_corp_info"]["corp_name"],
        agent_id=str(auth["auth_info"]["agent"][0]["agentid"]),
        permanent_code=auth["permanent_code"],
    )
    wecom = wecom_clients.client_for_tenant(tenant)
    assert wecom.corpid == SUITE_CORP
    assert list(wecom.list_member_ids()) == ["admin2", "staff2"]
    assert wecom.list_customers("admin2")
    assert wecom.chains() == []
    assert len(simulator.control.calls(path="service/get_corp_token")) == 1
    assert gettoken_calls(simulator) == []


def _downstream_gettokens(simulator) -> list[dict]:
    return simulator.control.calls(path="corpgroup/corp/gettoken")


def test_shared_corps_follow_every_page(self_built_tenant, simulator):
    wecom = wecom_clients.client_for_tenant(self_built_tenant)
    corps = list(wecom.shared_corps(page_size=1))
    assert corps == [{"corpid": "wwdown0001", "corp_name": "星河贸易", "agentid": 1000101},
                     {"corpid": "wwdown0002", "corp_name": "海川物流", "agentid": 1000102}]
    calls = simulator.control.calls(path="corpgroup/corp/list_app_share_info")
    assert [c["body"]["agentid"] for c in calls] == [1000002, 1000002]
    assert all(c["body"]["business_type"] == 1 and c["body"]["limit"] == 1 for c in calls)


def test_a_downstream_client_reads_its_corp_within_the_visible_range(self_built_tenant, simulator):
    downstream = wecom_clients.downstream_client(self_built_tenant, "wwdown0002")
    assert downstream.corpid == "wwdown0002"
    assert list(downstream.list_member_ids()) == ["zhoujingli"]
    assert downstream.get_member("zhoujingli")["name"] == "周经理"
    with pytest.raises(WeComApiError) as outside:
        downstream.get_member("caiwu01")
    assert outside.value.errcode == 60011
    (fetch,) = _downstream_gettokens(simulator)
    assert fetch["body"] == {"corpid": "wwdown0002", "business_type": 1, "agentid": 1000002}


def test_downstream_tokens_are_cached_per_tenant_and_corp(self_built_tenant, simulator, monkeypatch):
    wecom_clients.downstream_client(self_built_tenant, "wwdown0002").get_member("zhoujingli")
    wecom_clients.downstream_client(self_built_tenant, "wwdown0002").get_member("zhoujingli")
    assert len(_downstream_gettokens(simulator)) == 1
    monkeypatch.setattr(wecom_clients, "_downstream", {})  # another Lambda instance: the shared cache serves it
    wecom_clients.downstream_client(self_built_tenant, "wwdown0002").get_member("zhoujingli")
    assert len(_downstream_gettokens(simulator)) == 1
    wecom_clients.downstream_client(self_built_tenant, "wwdown0001").get_member("hejun")
    assert [c["body"]["corpid"] for c in _downstream_gettokens(simulator)] == ["wwdown0002", "wwdown0001"]
    other = onboarding.create_self_built(name="另一个团队", corp_id=DEMO_CORP, agent_id="1000002", wecom_secrets={
        **DEMO_SECRETS, "contacts_secret": CONTACTS_SECRET, "customer_secret": CUSTOMER_SECRET,
        "app_secret": APP_SECRET})
    mine = wecom_clients.downstream_client(self_built_tenant, "wwdown0002")
    theirs = wecom_clients.downstream_client(other, "wwdown0002")
    assert mine._contacts is not theirs._contacts


def test_a_rejected_downstream_token_is_refreshed_once(self_built_tenant, simulator):
    downstream = wecom_clients.downstream_client(self_built_tenant, "wwdown0002")
    downstream.get_member("zhoujingli")
    simulator.control.invalidate_tokens(corpid="wwdown0002")
    assert downstream.get_member("zhoujingli")["userid"] == "zhoujingli"
    assert len(_downstream_gettokens(simulator)) == 2


def test_a_corp_the_app_is_not_shared_with_is_refused(self_built_tenant, simulator):
    downstream = wecom_clients.downstream_client(self_built_tenant, "wwdown0003")
    with pytest.raises(WeComApiError) as refused:
        list(downstream.list_member_ids())
    assert refused.value.errcode == 60011


def _signed_by_wecom(simulator, tenant, page: str = "https://yq.test/directory/toolbar?tenantKey=x") -> bool:
    from chalicelib.wecom.jsapi import signature

    tickets = wecom_clients.jsapi_tickets(tenant)
    config_ok = simulator.control.verify_signature(page, "n", 7, signature(tickets.corp_ticket(), "n", 7, page),
                                                   corpid=tenant.corp_id)["valid"]
    agent_ok = simulator.control.verify_signature(page, "n", 7, signature(tickets.agent_ticket(), "n", 7, page),
                                                  corpid=tenant.corp_id, agentid=tenant.agent_id)["valid"]
    return config_ok and agent_ok


def test_a_self_built_tenant_signs_with_tickets_its_app_token_fetched(self_built_tenant, simulator):
    assert _signed_by_wecom(simulator, self_built_tenant)
    assert [c["query"]["corpsecret"] for c in gettoken_calls(simulator)] == [APP_SECRET]
    assert wecom_clients.jsapi_tickets(self_built_tenant) is wecom_clients.jsapi_tickets(self_built_tenant)


def test_a_suite_tenant_signs_with_tickets_its_suite_corp_token_fetched(simulator, monkeypatch):
    suite_secret_id = f"yunqiao/local/suite-{onboarding.new_tenant_key()}"
    monkeypatch.setenv("YQ_SUITE_SECRET_ID", suite_secret_id)
    secrets.put(
        config.suite_secret_id(),
        {"suite_id": SUITE_ID, "suite_secret": SUITE_SECRET, "callback_token": "t", "callback_aes_key": "k"},
    )
    wecom_state.save_suite_ticket(SUITE_ID, SUITE_TICKET)
    auth = wecom_clients.suite_client().permanent_code(AUTH_CODE)
    tenant = onboarding.create_suite_tenant(
        corp_id=auth["auth_corp_info"]["corpid"],
        corp_name=auth["auth_corp_info"]["corp_name"],
        agent_id=str(auth["auth_info"]["agent"][0]["agentid"]),
        permanent_code=auth["permanent_code"],
    )
    assert _signed_by_wecom(simulator, tenant)
    assert gettoken_calls(simulator) == []
    assert len(simulator.control.calls(path="service/get_corp_token")) == 1
    assert [c["corpid"] for c in simulator.control.calls(path="ticket/get")] == [SUITE_CORP]
