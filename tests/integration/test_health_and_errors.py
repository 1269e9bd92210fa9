"""The skeleton's HTTP contract: health, JSON errors, unknown tenants."""
from __future__ import annotations

import json


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


# --- headers and leaks (issue 19, finding 9) ----------------------------------------------------------------------
def _dynamodb_calls(monkeypatch) -> list[str]:
    from pynamodb.connection.base import Connection

    made: list[str] = []
    real = Connection._make_api_call

    def counting(self, operation_name, *args, **kwargs):
        made.append(operation_name)
        return real(self, operation_name, *args, **kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    return made


def test_public_healthz_says_only_ok_and_touches_no_table(client, monkeypatch):
    made = _dynamodb_calls(monkeypatch)
    reply = client.http.get("/healthz")
    assert reply.status_code == 200 and json.loads(reply.body) == {"status": "ok"}
    assert made == []


def test_healthz_details_need_the_admin_token(client, make_tenant):
    from chalicelib.store import secrets

    tenant = make_tenant()
    secrets.merge(tenant.secret_id, {"admin_token": "health-admin-token"})
    path = f"/healthz?tenantKey={tenant.tenant_key}"
    assert client.http.get(path).status_code == 401
    assert client.http.get(path, headers={"X-Yunqiao-Admin-Token": "wrong"}).status_code == 401
    reply = client.http.get(path, headers={"X-Yunqiao-Admin-Token": "health-admin-token"})
    assert reply.status_code == 200
    body = json.loads(reply.body)
    assert body["status"] == "ok" and "yunqiao-local-tenants" in body["tables"]
    assert set(body["tables"].values()) == {"ACTIVE"}


def test_every_answer_carries_hsts_and_nosniff_and_api_answers_are_never_stored(client, make_tenant):
    tenant = make_tenant()
    answers = {
        "json": client.http.get(f"/api/tenants/{tenant.tenant_key}/public"),
        "error": client.http.get("/api/tenants/tnnosuch01/public"),
        "chalice's own error": client.http.post("/api/external/session/password",
                                                headers={"Content-Type": "application/json"}, body="{not json"),
        "page": client.http.get(f"/mobile/wechat/external/home?tenantKey={tenant.tenant_key}"),
    }
    for name, reply in answers.items():
        assert reply.headers.get("Strict-Transport-Security") == "max-age=31536000; includeSubDomains", name
        assert reply.headers.get("X-Content-Type-Options") == "nosniff", name
    for name in ("json", "error", "chalice's own error"):
        assert answers[name].headers.get("Cache-Control") == "no-store", name
    assert answers["page"].headers["Cache-Control"] == "no-cache"  # pages keep their own caching


def test_an_error_never_echoes_an_unbounded_input(client):
    long_key = "k" * 1000
    replies = [
        client.http.get(f"/api/external/login-options?tenantKey={long_key}"),
        client.http.get(f"/api/tenants/{long_key}/public"),
        client.http.post("/api/auth/wecom/session", headers={"Content-Type": "application/json"},
                         body=json.dumps({"tenantKey": long_key, "code": "x"})),
    ]
    for reply in replies:
        assert 400 <= reply.status_code < 500, reply.status_code
        message = json.loads(reply.body)["error"]["message"]
        assert "k" * 100 not in message and len(message) <= 300
