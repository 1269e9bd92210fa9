"""Pure rules: tenant validation, queue backoff, the pump's schedule rates."""
from __future__ import annotations

import pytest

from chalicelib.tenants import onboarding
from chalicelib.core.errors import BadRequest
from chalicelib.handlers.sqs import MAX_DELAY_SECONDS, backoff_seconds
from dev.pump import rate_seconds


def test_new_tenant_keys_are_valid_and_distinct():
    keys = {onboarding.new_tenant_key() for _ in range(500)}
    assert len(keys) == 500
    for key in keys:
        assert key.startswith("tn") and len(key) == 10
        assert onboarding.validate_tenant_key(key) == key


@pytest.mark.parametrize("key", ["", "TN123456", "tn-12345", "abc", "a" * 33, "tn 12345"])
def test_malformed_tenant_keys_are_refused(key):
    with pytest.raises(BadRequest) as refused:
        onboarding.validate_tenant_key(key)
    assert refused.value.code == "invalid_tenant_key"


@pytest.mark.parametrize("overrides, code", [
    ({"name": ""}, "invalid_name"),
    ({"corp_id": "w"}, "invalid_corp_id"),
    ({"agent_id": "abc"}, "invalid_agent_id"),
    ({"public_base_url": "ftp://x"}, "invalid_base_url"),
    ({"wecom_secrets": {"app_secret": "x"}}, "missing_secrets"),
    ({"wecom_secrets": {"contacts_secret": "a", "customer_secret": "b", "app_secret": "c", "callback_token": "d",
                        "callback_aes_key": "too+short/"}}, "invalid_aes_key"),
])
def test_self_built_tenant_input_is_validated_before_anything_is_stored(overrides, code, monkeypatch):
    from chalicelib.store import secrets

    monkeypatch.setattr(secrets, "put", lambda *_: pytest.fail("nothing may be stored for bad input"))
    fields = {"name": "团队", "corp_id": "wwcorp01", "agent_id": "1000002", "wecom_secrets": {
        "contacts_secret": "a", "customer_secret": "b", "app_secret": "c", "callback_token": "d",
        "callback_aes_key": "a" * 43}}
    fields.update(overrides)
    with pytest.raises(BadRequest) as refused:
        onboarding.create_self_built(**fields)
    assert refused.value.code == code


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    for receive_count in range(1, 12):
        ceiling = min(MAX_DELAY_SECONDS, 2 * 2 ** (receive_count - 1))
        delays = {backoff_seconds(receive_count) for _ in range(200)}
        assert all(max(1, int(ceiling / 2)) <= d <= ceiling for d in delays)
    assert len({backoff_seconds(6) for _ in range(200)}) > 5
    assert max(backoff_seconds(30) for _ in range(200)) <= MAX_DELAY_SECONDS


@pytest.mark.parametrize("expression, seconds", [
    ("rate(1 minute)", 60), ("rate(10 minutes)", 600), ("rate(6 hours)", 21600), ("rate(1 day)", 86400),
])
def test_pump_reads_rate_expressions(expression, seconds):
    assert rate_seconds(expression) == seconds


def test_pump_refuses_what_it_cannot_fire():
    with pytest.raises(ValueError, match=r"rate\(\.\.\.\) schedules only"):
        rate_seconds("cron(0 12 * * ? *)")
