"""The third-party suite: stored ticket → suite token → permanent code → corp token → the corp's APIs."""
from __future__ import annotations

from functools import partial

import pytest

from chalicelib.store import wecom_state
from chalicelib.wecom.client import SuiteClient, WeComClient
from chalicelib.wecom.errors import SuiteTicketMissing, WeComApiError
from tests.integration.wecom.conftest import AUTH_CODE, SUITE_CORP, SUITE_ID, SUITE_SECRET, SUITE_TICKET


@pytest.fixture
def suite(simulator, token_cache, transport) -> SuiteClient:
    wecom_state.save_suite_ticket(SUITE_ID, SUITE_TICKET)
    return SuiteClient(
        SUITE_ID,
        SUITE_SECRET,
        ticket=partial(wecom_state.suite_ticket, SUITE_ID),
        cache=token_cache,
        transport=transport,
    )


def calls(simulator, path: str) -> list[dict]:
    return simulator.control.calls(path=path)


def test_the_latest_stored_ticket_is_read_back(emulator):
    wecom_state.save_suite_ticket("wwsuiteticket01", "older")
    wecom_state.save_suite_ticket("wwsuiteticket01", "newer")
    assert wecom_state.suite_ticket("wwsuiteticket01") == "newer"
    assert wecom_state.suite_ticket("wwsuiteunknown") is None


def test_from_auth_code_to_a_call_with_the_corp_token(suite, simulator, transport):
    suite_token = suite.suite_token()
    assert calls(simulator, "service/get_suite_token")[0]["body"]["suite_ticket"] == SUITE_TICKET

    auth = suite.permanent_code(AUTH_CODE)
    assert auth["permanent_code"] == "demo-permanent-code-0002"
    assert auth["auth_corp_info"]["corpid"] == SUITE_CORP
    assert auth["auth_corp_info"]["corp_name"] == "云桥合作伙伴"
    assert auth["auth_info"]["agent"][0]["agentid"]
    assert auth["auth_user_info"]["userid"] == "admin2"
    assert auth["state"] == "tnxabtf9g2"
    assert calls(simulator, "service/v2/get_permanent_code")[0]["query"]["suite_access_token"] == suite_token

    with pytest.raises(WeComApiError) as caught:
        suite.permanent_code(AUTH_CODE)  # an auth code is single use
    assert caught.value.errcode == 40078

    corp_tokens = suite.corp_token_source(SUITE_CORP, auth["permanent_code"])
    corp = WeComClient(SUITE_CORP, contacts=corp_tokens, customers=corp_tokens, app=corp_tokens, transport=transport)
    assert list(corp.list_member_ids()) == ["admin2", "staff2"]
    (customer_id,) = corp.list_customers("admin2")
    assert "unionid" not in corp.get_customer(customer_id)["external_contact"]  # never for third-party apps

    assert len(calls(simulator, "service/get_suite_token")) == 1
    assert len(calls(simulator, "service/get_corp_token")) == 1
    assert calls(simulator, "gettoken") == []


def test_no_stored_ticket_is_a_typed_error(simulator, token_cache, transport):
    suite = SuiteClient(
        "wwsuitenoticket",
        SUITE_SECRET,
        ticket=partial(wecom_state.suite_ticket, "wwsuitenoticket"),
        cache=token_cache,
        transport=transport,
    )
    with pytest.raises(SuiteTicketMissing):
        suite.suite_token()
    assert calls(simulator, "service/get_suite_token") == []


def test_a_suite_token_invalidated_mid_run_is_refreshed_once(suite, simulator):
    suite.suite_token()
    assert simulator.control.invalidate_tokens(corpid=SUITE_ID) == 1
    assert suite.permanent_code(AUTH_CODE)["permanent_code"]
    assert [c["errcode"] for c in calls(simulator, "service/v2/get_permanent_code")] == [40082, 0]
    assert len(calls(simulator, "service/get_suite_token")) == 2


def test_an_expired_suite_token_is_refreshed_once(suite, simulator):
    simulator.control.settings(token_ttl=120)
    suite.suite_token()
    simulator.control.advance_clock(200)  # expired for WeCom, fresh in the cache; ticket and auth code still valid
    assert suite.permanent_code(AUTH_CODE)["permanent_code"]
    assert [c["errcode"] for c in calls(simulator, "service/v2/get_permanent_code")] == [42009, 0]
    assert len(calls(simulator, "service/get_suite_token")) == 2


def test_a_rejected_corp_token_is_refreshed_without_a_new_suite_token(suite, simulator, transport):
    code = suite.permanent_code(AUTH_CODE)["permanent_code"]
    corp_tokens = suite.corp_token_source(SUITE_CORP, code)
    corp = WeComClient(SUITE_CORP, contacts=corp_tokens, customers=corp_tokens, app=corp_tokens, transport=transport)
    corp.get_member("admin2")
    simulator.control.invalidate_tokens(corpid=SUITE_CORP)
    assert corp.get_member("staff2")["name"] == "冯员工"
    assert len(calls(simulator, "service/get_corp_token")) == 2
    assert len(calls(simulator, "service/get_suite_token")) == 1
