"""Fixtures for the WeCom client against the simulator (demo corp) and the emulator's wecom-state table."""
from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chalicelib.core import config
from chalicelib.store.wecom_state import DynamoTokenCache, WeComState
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.http import RetryPolicy, Transport
from chalicelib.wecom.ratelimit import RateLimiter
from chalicelib.wecom.tokens import corp_token_source

DEMO_SCENARIO = Path(__file__).resolve().parents[3] / "dev" / "scenarios" / "demo.json"
DEMO_CORP = "wwdemo0001"
CONTACTS_SECRET = "demo-contacts-secret-0001"
CUSTOMER_SECRET = "demo-externalcontact-secret-0001"
APP_SECRET = "demo-app-secret-0001"
AGENTID = 1000002
SUITE_ID = "wwsuitedemo0001"
SUITE_SECRET = "demo-suite-secret-0001"
SUITE_TICKET = "demo-suite-ticket-0001"
AUTH_CODE = "demo-auth-code-0001"
SUITE_CORP = "wwdemo0002"


class WindowClock:
    """A clock parked inside a minute window of its own, so no other test shares its counters."""

    def __init__(self) -> None:
        self.now = random.randrange(10**6, 10**7) * 60 + 1.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sleeps:
    """An injected sleep: records what the code would have waited, waits for nothing."""

    seconds: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.seconds.append(seconds)


@pytest.fixture
def token_cache(emulator) -> DynamoTokenCache:
    """The shared token cache, emptied: the simulator forgets its tokens between tests, the emulator does not."""
    for item in WeComState.scan(WeComState.pk.startswith("token#")):
        item.delete()
    return DynamoTokenCache()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def transport(simulator, sleeps) -> Transport:
    """Four attempts, sub-second timeouts (so latency faults time out fast), backoff recorded instead of slept."""
    return Transport(RetryPolicy(attempts=4, connect_timeout=1.0, read_timeout=0.4), base_url=config.wecom_base_url(),
                     sleep=sleeps)


@pytest.fixture
def make_client(simulator, token_cache, transport):
    """A demo-corp client, as one Lambda instance would build it: its own token sources over the shared cache."""

    def make(
        *,
        corpid: str = DEMO_CORP,
        secrets: tuple[str, str, str] = (CONTACTS_SECRET, CUSTOMER_SECRET, APP_SECRET),
        limiter: RateLimiter | None = None,
        wait_for_permits: bool = True,
        **token_options,
    ) -> WeComClient:
        contacts, customers, app = (
            corp_token_source(corpid, secret, token_cache, transport, **token_options) for secret in secrets
        )
        return WeComClient(
            corpid,
            contacts=contacts,
            customers=customers,
            app=app,
            agentid=AGENTID,
            transport=transport,
            limiter=limiter,
            wait_for_permits=wait_for_permits,
        )

    return make


@pytest.fixture
def wecom(make_client) -> WeComClient:
    return make_client()


@pytest.fixture
def load_scenario(simulator):
    """Load another scenario for one test; the demo comes back afterwards (reset reloads the last one loaded)."""

    def load(scenario: dict) -> dict:
        simulator.control.load_scenario(scenario)
        return scenario

    yield load
    simulator.control.load_scenario(json.loads(DEMO_SCENARIO.read_text(encoding="utf-8")))


def token_kinds(simulator) -> dict[str, str]:
    """token value -> secret kind, for every token the simulator issued that is still live."""
    return {t["token"]: t["kind"] for t in simulator.control.tokens()}


def gettoken_calls(simulator, secret: str | None = None) -> list[dict]:
    return [
        c for c in simulator.control.calls(path="gettoken") if secret is None or c["query"].get("corpsecret") == secret
    ]

