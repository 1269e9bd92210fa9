"""JS-SDK tickets against the simulator and the shared DynamoDB cache: one fetch under concurrency, a refresh when
they near their expiry, and signatures WeCom's client (the simulator) accepts."""
from __future__ import annotations

import threading
import time

import pytest

from chalicelib.wecom.errors import WeComApiError
from chalicelib.wecom.jsapi import JsApiTickets, signature
from chalicelib.wecom.tokens import corp_token_source
from tests.integration.wecom.conftest import AGENTID, APP_SECRET, CONTACTS_SECRET, DEMO_CORP

PAGE = "https://yq.test/directory/toolbar?tenantKey=t1"


class SharedClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def make_tickets(simulator, token_cache, transport):
    """One Lambda instance's tickets of the demo app: its own app token source over the shared cache."""

    def make(secret: str = APP_SECRET, **options) -> JsApiTickets:
        app = corp_token_source(DEMO_CORP, secret, token_cache, transport, **options)
        return JsApiTickets(DEMO_CORP, app, cache=token_cache, transport=transport, **options)

    return make


def fetches(simulator, path: str) -> list[dict]:
    return [c for c in simulator.control.calls(path=path) if c["errcode"] == 0]


def test_both_tickets_come_from_wecom_once_and_sign_pages_wecom_accepts(make_tickets, simulator):
    first, second = make_tickets(), make_tickets()
    assert first.corp_ticket() == second.corp_ticket()
    assert first.agent_ticket() == second.agent_ticket() != first.corp_ticket()
    assert len(fetches(simulator, "get_jsapi_ticket")) == 1
    calls = fetches(simulator, "ticket/get")
    assert len(calls) == 1 and calls[0]["query"]["type"] == "agent_config"

    config = signature(first.corp_ticket(), "n0nce", 1700000000, PAGE + "#frag")
    agent = signature(first.agent_ticket(), "n0nce", 1700000000, PAGE)
    verify = simulator.control.verify_signature
    assert verify(PAGE, "n0nce", 1700000000, config) == {"valid": True, "reason": None}
    assert verify(PAGE, "n0nce", 1700000000, agent, agentid=AGENTID)["valid"] is True
    # Each signature holds for its own ticket, page and nonce only.
    assert verify(PAGE, "n0nce", 1700000000, agent)["valid"] is False
    assert verify(PAGE, "n0nce", 1700000000, config, agentid=AGENTID)["valid"] is False
    assert verify(PAGE + "&x=1", "n0nce", 1700000000, config)["valid"] is False
    assert verify(PAGE, "other", 1700000000, config)["valid"] is False


def test_many_instances_at_once_fetch_each_ticket_once(make_tickets, simulator):
    """Rotate mode: a second fetch by any instance would supersede the ticket the others sign with."""
    simulator.control.settings(token_mode="rotate")
    instances = [make_tickets() for _ in range(4)]
    barrier = threading.Barrier(len(instances) * 3)
    seen, errors = [], []

    def work(tickets: JsApiTickets) -> None:
        barrier.wait()
        try:
            seen.append((tickets.corp_ticket(), tickets.agent_ticket()))
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in instances for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(seen)) == 1
    assert len(fetches(simulator, "get_jsapi_ticket")) == 1
    assert len(fetches(simulator, "ticket/get")) == 1
    corp, agent = seen[0]
    assert simulator.control.verify_signature(PAGE, "n", 1, signature(corp, "n", 1, PAGE))["valid"] is True
    assert simulator.control.verify_signature(PAGE, "n", 1, signature(agent, "n", 1, PAGE), agentid=AGENTID)["valid"]


def test_tickets_are_refreshed_once_near_their_expiry_and_the_new_ones_verify(make_tickets, simulator):
    simulator.control.settings(token_mode="rotate")
    clock = SharedClock()
    first, second = make_tickets(clock=clock), make_tickets(clock=clock)
    old = first.corp_ticket(), first.agent_ticket()
    clock.offset = 7200 - 300 + 1  # past the shared refresh point
    simulator.control.advance_clock(7200 - 300 + 1)
    new = second.corp_ticket(), second.agent_ticket()
    assert first.corp_ticket() == new[0] and first.agent_ticket() == new[1]
    assert new[0] != old[0] and new[1] != old[1]
    assert len(fetches(simulator, "get_jsapi_ticket")) == 2
    assert len(fetches(simulator, "ticket/get")) == 2
    verify = simulator.control.verify_signature
    assert verify(PAGE, "n", 1, signature(new[0], "n", 1, PAGE))["valid"] is True
    stale = verify(PAGE, "n", 1, signature(old[0], "n", 1, PAGE))
    assert stale["valid"] is False and "invalid signature" in stale["reason"]


def test_a_rejected_app_token_is_refreshed_once_for_the_ticket(make_tickets, simulator):
    tickets = make_tickets()
    tickets.corp_ticket()
    simulator.control.invalidate_tokens(corpid=DEMO_CORP)
    assert tickets.agent_ticket()
    assert [c["errcode"] for c in simulator.control.calls(path="ticket/get")] == [40001, 0]


def test_a_token_without_an_app_cannot_have_the_agent_ticket(make_tickets, simulator):
    with pytest.raises(WeComApiError) as caught:
        make_tickets(secret=CONTACTS_SECRET).agent_ticket()
    assert caught.value.errcode == 48002


def test_the_simulator_answers_ticket_get_as_wecom_does(wecom, simulator):
    """type other than agent_config: 40058; an hour's 100 agent tickets per app: then 45009."""
    import requests

    token = wecom._app.token()
    url = f"{simulator.base_url}/cgi-bin/ticket/get"
    assert requests.get(url, params={"access_token": token, "type": "jsapi"}, timeout=5).json()["errcode"] == 40058
    answer = requests.get(url, params={"access_token": token, "type": "agent_config"}, timeout=5).json()
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200 and answer["ticket"]
    for _ in range(99):
        requests.get(url, params={"access_token": token, "type": "agent_config"}, timeout=5)
    assert requests.get(url, params={"access_token": token, "type": "agent_config"},
                        timeout=5).json()["errcode"] == 45009
