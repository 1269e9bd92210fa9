"""Member sign-in through WeCom OAuth, sessions (expiry, revocation, tenant binding) and the role lists."""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import sessions
from chalicelib.core import clock
from chalicelib.store import roles


def _json(reply) -> dict:
    return json.loads(reply.body) if reply.body else {}


def _post(client, path: str, body: dict, headers: dict | None = None):
    return client.http.post(path, headers={"Content-Type": "application/json", **(headers or {})},
                            body=json.dumps(body))


def test_oauth_code_signs_a_member_in_and_the_session_names_them(client, simulator, demo_tenant):
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, userid="zhangsan")
    reply = _post(client, "/api/auth/wecom/session", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 201
    body = _json(reply)
    assert body["member"] == {"tenantKey": demo_tenant.tenant_key, "userId": "zhangsan", "name": "张三", "roles": []}
    assert body["token"].startswith(f"yq1.{demo_tenant.tenant_key}.")
    me = client.http.get("/api/auth/session", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and _json(me)["member"]["userId"] == "zhangsan"
    assert simulator.control.calls(path="auth/getuserinfo")[-1]["errcode"] == 0


def test_a_code_is_single_use_and_a_forged_code_is_refused(client, simulator, demo_tenant):
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, userid="lisi")
    assert _post(client, "/api/auth/wecom/session", {"tenantKey": demo_tenant.tenant_key, "code": code}).status_code == 201
    again = _post(client, "/api/auth/wecom/session", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert again.status_code == 401 and _json(again)["error"]["code"] == "oauth_failed"
    forged = _post(client, "/api/auth/wecom/session", {"tenantKey": demo_tenant.tenant_key, "code": "made-up"})
    assert forged.status_code == 401


def test_an_external_contact_cannot_use_the_member_door(client, simulator, demo_tenant):
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, external_userid="wmDemoCustomer0001")
    reply = _post(client, "/api/auth/wecom/session", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 403 and _json(reply)["error"]["code"] == "not_a_member"


def test_unknown_tenant_and_missing_code_are_clear_errors(client, demo_tenant):
    unknown = _post(client, "/api/auth/wecom/session", {"tenantKey": "tnnope00000", "code": "x"})
    assert unknown.status_code == 404 and _json(unknown)["error"]["code"] == "tenant_not_found"
    empty = _post(client, "/api/auth/wecom/session", {"tenantKey": demo_tenant.tenant_key})
    assert empty.status_code == 400 and _json(empty)["error"]["code"] == "invalid_code"


@pytest.mark.parametrize("token", ["", "yq1.x.short", "nonsense", "yq1.tnnope.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_missing_or_forged_tokens_are_unauthorised(client, token):
    reply = client.http.get("/api/auth/session", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 401 and _json(reply)["error"]["code"] == "invalid_session"


def test_sign_out_revokes_the_token_and_expiry_ends_it(client, sign_in, demo_tenant, monkeypatch):
    headers = sign_in(demo_tenant, "wangwu")
    assert client.http.delete("/api/auth/session", headers=headers).status_code == 204
    assert client.http.get("/api/auth/session", headers=headers).status_code == 401
    issued = sessions.issue(demo_tenant.tenant_key, sessions.MEMBER, "wangwu", "test")
    assert sessions.resolve(issued.token) is not None
    monkeypatch.setattr(clock, "now", lambda: issued.expires_at + 1)
    assert sessions.resolve(issued.token) is None


def test_revoke_all_ends_every_session_but_the_kept_one(demo_tenant):
    first, second, third = (sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, "c-1", "password")
                            for _ in range(3))
    other = sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, "c-2", "password")
    assert sessions.revoke_all(demo_tenant.tenant_key, sessions.CONTACT, "c-1", keep_session_id=second.session_id) == 2
    assert [sessions.resolve(i.token) is not None for i in (first, second, third, other)] == [False, True, False, True]


def test_admins_manage_role_lists_and_others_may_not(client, sign_in, demo_tenant):
    admin = sign_in(demo_tenant, "zhangsan", roles=(roles.ADMIN,))
    ordinary = sign_in(demo_tenant, "lisi")
    path = "/api/directory/roles/directory_maintainer/members"
    assert client.http.put(f"{path}/wangwu", headers=ordinary).status_code == 403
    assert client.http.put(f"{path}/wangwu", headers=admin).status_code == 204
    listed = client.http.get(path, headers=admin)
    assert _json(listed) == {"role": "directory_maintainer", "userIds": ["wangwu"]}
    assert client.http.get(path, headers=ordinary).status_code == 403
    assert roles.roles_of(demo_tenant.tenant_key, "wangwu") == {"directory_maintainer"}
    assert client.http.delete(f"{path}/wangwu", headers=admin).status_code == 204
    assert roles.roles_of(demo_tenant.tenant_key, "wangwu") == frozenset()


def test_role_grants_are_validated(client, sign_in, demo_tenant):
    admin = sign_in(demo_tenant, "zhangsan", roles=(roles.ADMIN,))
    bad_role = client.http.put("/api/directory/roles/superuser/members/lisi", headers=admin)
    assert bad_role.status_code == 400 and _json(bad_role)["error"]["code"] == "unknown_role"
    stranger = client.http.put("/api/directory/roles/admin/members/nobody", headers=admin)
    assert stranger.status_code == 404 and _json(stranger)["error"]["code"] == "member_not_found"
    own = client.http.delete("/api/directory/roles/admin/members/zhangsan", headers=admin)
    assert own.status_code == 403 and _json(own)["error"]["code"] == "last_admin_guard"
    assert roles.ADMIN in roles.roles_of(demo_tenant.tenant_key, "zhangsan")


def test_the_admin_token_names_the_first_admin_whose_session_then_works_on_admin_routes(client, sign_in, demo_tenant):
    first = client.http.put(f"/api/admin/tenants/{demo_tenant.tenant_key}/admins/zhaoliu",
                            headers={"X-Yunqiao-Admin-Token": "local-admin-token"})
    assert first.status_code == 204
    admin = sign_in(demo_tenant, "zhaoliu")
    runs = client.http.get(f"/api/admin/tenants/{demo_tenant.tenant_key}/sync/runs", headers=admin)
    assert runs.status_code == 200
    ordinary = sign_in(demo_tenant, "sunqi")
    refused = client.http.get(f"/api/admin/tenants/{demo_tenant.tenant_key}/sync/runs", headers=ordinary)
    assert refused.status_code == 403 and _json(refused)["error"]["code"] == "admin_required"


def test_a_session_of_one_tenant_is_useless_on_another_tenants_admin_routes(client, sign_in, demo_tenant):
    from pathlib import Path

    from chalicelib.tenants import onboarding
    from dev.seed import seed

    other = seed(Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json", onboarding.new_tenant_key())
    admin_elsewhere = sign_in(other, "zhangsan", roles=(roles.ADMIN,))
    reply = client.http.get(f"/api/admin/tenants/{demo_tenant.tenant_key}/sync/runs", headers=admin_elsewhere)
    assert reply.status_code == 401 and _json(reply)["error"]["code"] == "invalid_session"


def test_a_member_who_leaves_loses_sessions_and_roles_and_a_renamed_one_keeps_the_roles(client, sign_in,
                                                                                       demo_tenant):
    from chalicelib.tenants import members

    leaving = sign_in(demo_tenant, "wangwu", roles=(roles.DIRECTORY_MAINTAINER,))
    renamed = sign_in(demo_tenant, "zhaoliu", roles=(roles.ADMIN,))
    members.remove(demo_tenant, "wangwu")
    members.rename(demo_tenant, "zhaoliu", "zhaoliu2")

    assert client.http.get("/api/auth/session", headers=leaving).status_code == 401
    assert roles.roles_of(demo_tenant.tenant_key, "wangwu") == frozenset()
    assert client.http.get("/api/auth/session", headers=renamed).status_code == 401
    assert roles.roles_of(demo_tenant.tenant_key, "zhaoliu") == frozenset()
    assert roles.roles_of(demo_tenant.tenant_key, "zhaoliu2") == {roles.ADMIN}
