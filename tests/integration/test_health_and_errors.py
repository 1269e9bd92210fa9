"""The skeleton's HTTP contract: health, JSON errors, unknown tenants."""
from __future__ import annotations

import json


def test_healthz_reports_every_table_active(client):
    reply = client.http.get("/healthz")
    assert reply.status_code == 200
    body = json.loads(reply.body)
    assert body["status"] == "ok"
    assert "yunqiao-local-tenants" in body["tables"]
    assert set(body["tables"].values()) == {"ACTIVE"}


def test_unknown_tenant_is_a_json_404(client):
    reply = client.http.get("/api/tenants/tnnosuch01/public")
    assert reply.status_code == 404
    assert reply.headers["Content-Type"] == "application/json"
    assert json.loads(reply.body) == {"error": {"code": "tenant_not_found", "message": "no tenant 'tnnosuch01'"}}


def test_public_tenant_shows_the_name_and_no_secret(client, make_tenant):
    tenant = make_tenant(name="云桥演示科技")
    reply = client.http.get(f"/api/tenants/{tenant.tenant_key}/public")
    assert reply.status_code == 200
    assert json.loads(reply.body) == {"tenantKey": tenant.tenant_key, "name": "云桥演示科技"}


def test_disabled_tenant_answers_like_an_unknown_one(client, make_tenant):
    from chalicelib.store import tenants

    tenant = make_tenant()
    tenants.set_enabled(tenant, False)
    reply = client.http.get(f"/api/tenants/{tenant.tenant_key}/public")
    assert reply.status_code == 404
    assert json.loads(reply.body)["error"]["code"] == "tenant_not_found"


def test_unhandled_error_is_a_json_500_without_internals(client, monkeypatch):
    from chalicelib.store import tenants

    def explode(_key):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tenants, "get_enabled", explode)
    reply = client.http.get("/api/tenants/tnany0001/public")
    assert reply.status_code == 500
    assert json.loads(reply.body) == {"error": {"code": "internal_error", "message": "internal error"}}
