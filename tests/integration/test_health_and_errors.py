"""The skeleton's HTTP contract: health, JSON errors, unknown tenants."""
from __future__ import annotations

import json

import pytest

from tests.integration.oauth_support import contact_round_trip, exchange, member_round_trip


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


# --- a missing or empty tenantKey (issue 19, finding 4) -----------------------------------------------------------
@pytest.mark.parametrize("tenant_key", [None, "", "  ", "TN-UPPER", "x" * 3000])
@pytest.mark.parametrize("method, path, payload", [
    ("GET", "/api/external/login-options", None),
    ("GET", "/api/auth/wecom/authorize-url?redirectUri=http%3A%2F%2F127.0.0.1%3A8000%2F", None),
    ("POST", "/api/auth/wecom/session", {"code": "a-code"}),
    ("POST", "/api/external/activation", {"token": "a-token", "password": "Harbour-Lights-42"}),
    ("POST", "/api/external/session/wechat", {"code": "a-code"}),
    ("POST", "/api/external/session/wecom", {"code": "a-code"}),
])
def test_a_missing_or_unusable_tenant_key_is_a_4xx_on_every_public_route(client, make_tenant, method, path, payload,
                                                                          tenant_key):
    if method == "GET":
        sep = "&" if "?" in path else "?"
        reply = client.http.get(path if tenant_key is None else f"{path}{sep}tenantKey={tenant_key}")
    else:
        # The OAuth exchanges check the round trip's state first: begin one, so the tenantKey is what is judged.
        state, cookie = contact_round_trip(client, make_tenant().tenant_key, path.rsplit("/", 1)[1])
        if path == "/api/auth/wecom/session":
            state, cookie = member_round_trip(client, make_tenant())
        body = {**payload, **({} if tenant_key is None else {"tenantKey": tenant_key})}
        reply = exchange(client, path, body, state, cookie)
    assert reply.status_code in (400, 404), (reply.status_code, reply.body)
    error = json.loads(reply.body)["error"]
    assert error["code"] in ("missing_tenant_key", "tenant_not_found") and len(error["message"]) <= 300
