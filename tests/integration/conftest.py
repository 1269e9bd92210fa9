from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _emulator(emulator):
    """Every integration test talks to the emulator."""
    return emulator


@pytest.fixture
def client():
    """The app through Chalice's test client: the same routing, middleware and handlers as API Gateway + Lambda."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


DEMO_SECRETS = {
    "contacts_secret": "contacts-secret",
    "customer_secret": "customer-secret",
    "app_secret": "app-secret",
    "callback_token": "QDG6eK",
    "callback_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
}


@pytest.fixture
def make_tenant():
    """Create a self-built tenant with a fresh key (tests never share tenants), returning the stored record."""
    from chalicelib import tenants

    def make(**overrides):
        fields = {
            "name": "测试团队",
            "corp_id": "ww" + tenants.new_tenant_key(),
            "agent_id": "1000002",
            "wecom_secrets": dict(DEMO_SECRETS),
        }
        fields.update(overrides)
        return tenants.create_self_built(**fields)

    return make
