"""Member sign-in through WeCom OAuth, sessions (expiry, revocation, tenant binding) and the role lists."""
from __future__ import annotations

import time

import pytest

from chalicelib.auth import sessions
from chalicelib.core import clock, config
from chalicelib.store import roles
from tests.integration.api_support import body as _json
from tests.integration.oauth_support import exchange, member_round_trip


def _sign(client, tenant, payload: dict):
    """POST /api/auth/wecom/session as the workspace page makes it, after authorize-url began the round trip."""
    state, cookie = member_round_trip(client, tenant)
    return exchange(client, "/api/auth/wecom/session", payload, state, cookie)


def test_oauth_code_signs_a_member_in_and_the_session_names_them(client, simulator, demo_tenant):
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, userid="zhangsan")
    reply = _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 201
    body = _json(reply)
    assert body["member"] == {"tenantKey": demo_tenant.tenant_key, "userId": "zhangsan", "name": "张三", "roles": []}
    assert body["token"].startswith(f"yq1.{demo_tenant.tenant_key}.")
    me = client.http.get("/api/auth/session", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and _json(me)["member"]["userId"] == "zhangsan"
    assert simulator.control.calls(path="auth/getuserinfo")[-1]["errcode"] == 0


def test_a_code_is_single_use_and_a_forged_code_is_refused(client, simulator, demo_tenant):
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, userid="lisi")
    assert _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key, "code": code}).status_code == 201
    again = _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert again.status_code == 401 and _json(again)["error"]["code"] == "oauth_failed"
    forged = _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key, "code": "made-up"})
    assert forged.status_code == 401


def test_an_external_contact_cannot_use_the_member_door(client, simulator, demo_tenant):
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, external_userid="wmDemoCustomer0001")
    reply = _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 403 and _json(reply)["error"]["code"] == "not_a_member"


def test_unknown_tenant_and_missing_code_are_clear_errors(client, demo_tenant):
    unknown = _sign(client, demo_tenant, {"tenantKey": "tnnope00000", "code": "x"})
    assert unknown.status_code == 404 and _json(unknown)["error"]["code"] == "tenant_not_found"
    empty = _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key})
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


def test_after_wecom_invalidates_its_tokens_a_sign_in_never_retries_with_the_rejected_token(
        client, simulator, demo_tenant, emulator):
    """Another instance began refreshing the app token just before WeCom invalidated every token: its gettoken
    answered the token this instance holds, and it stores that token back while this instance, rejected, waits for
    the refresh. Taking it would fail the sign-in a second time; the instance fetches a token of its own instead."""
    import threading

    from chalicelib.store import secrets
    from chalicelib.store.wecom_state import DynamoTokenCache
    from chalicelib.wecom.http import RetryPolicy, Transport
    from chalicelib.wecom.tokens import corp_token_source

    def sign_in_as(user_id: str):
        code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, userid=user_id)
        return _sign(client, demo_tenant, {"tenantKey": demo_tenant.tenant_key, "code": code})

    assert sign_in_as("zhangsan").status_code == 201  # this instance now holds the app token
    [rejected] = [t["token"] for t in simulator.control.tokens(demo_tenant.corp_id) if t["kind"] == "app"]
    fetched, resume = threading.Event(), threading.Event()

    class PausedAfterFetch(Transport):
        def cgi(self, *args, **kwargs):
            answer = super().cgi(*args, **kwargs)
            fetched.set()
            resume.wait()
            return answer

    cache = DynamoTokenCache()
    other_instance = corp_token_source(
        demo_tenant.corp_id, secrets.get(demo_tenant.secret_id)["app_secret"], cache,
        PausedAfterFetch(RetryPolicy(attempts=1), base_url=config.wecom_base_url()), clock=lambda: time.time() + 7000)  # at its refresh point
    others: list[str] = []
    other = threading.Thread(target=lambda: others.append(other_instance.token()))
    other.start()
    fetched.wait()
    assert simulator.control.invalidate_tokens(corpid=demo_tenant.corp_id) >= 1
    answers: list = []
    signing_in = threading.Thread(target=lambda: answers.append(sign_in_as("lisi")))
    signing_in.start()
    while cache.read(other_instance.key).token is not None:  # until this instance has dropped the rejected token
        time.sleep(0.01)
    resume.set()  # the other instance stores the token its gettoken answered before the invalidation
    other.join()
    signing_in.join()
    assert others == [rejected]
    [reply] = answers
    assert reply.status_code == 201, reply.body
    assert _json(reply)["member"]["userId"] == "lisi"
    used = [call["query"]["access_token"] for call in simulator.control.calls(path="auth/getuserinfo")]
    assert used.count(rejected) == 2  # zhangsan's sign-in, and lisi's first try; never again after the rejection

def test_the_authorize_url_sends_members_back_only_to_the_tenants_own_origin(client, make_tenant):
    from urllib.parse import quote

    tenant = make_tenant(public_base_url="https://yq.test")
    own = make_tenant(public_base_url="https://work.example.com")

    def asked(tenant, redirect: str):
        return client.http.get(f"/api/auth/wecom/authorize-url?tenantKey={tenant.tenant_key}"
                               f"&redirectUri={quote(redirect, safe='')}")

    assert asked(tenant, "https://yq.test/workspace/").status_code == 200
    assert asked(own, "https://work.example.com/workspace/?x=1").status_code == 200
    for tenant_, redirect in [(tenant, "https://evil.example/workspace/"), (tenant, "https://yq.test.evil.example/"),
                              (tenant, "http://yq.test/workspace/"), (tenant, "https://yq.test:8443/"),
                              (own, "https://yq.test/workspace/"), (tenant, "javascript:alert(1)"),
                              (tenant, "//evil.example/")]:
        reply = asked(tenant_, redirect)
        assert reply.status_code == 400 and _json(reply)["error"]["code"] == "invalid_redirect", redirect


def test_a_member_code_needs_the_state_of_a_round_trip_begun_in_this_browser(client, simulator, demo_tenant):
    theirs, their_cookie = member_round_trip(client, demo_tenant)
    mine, my_cookie = member_round_trip(client, demo_tenant)
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, userid="zhangsan")
    payload = {"tenantKey": demo_tenant.tenant_key, "code": code}
    simulator.control.reset_calls()
    for state, cookie in [(theirs, my_cookie), (theirs, None), (demo_tenant.tenant_key, my_cookie), (None, None),
                          ("wecom" + mine.removeprefix("member"), my_cookie)]:
        reply = exchange(client, "/api/auth/wecom/session", payload, state, cookie)
        assert reply.status_code == 403 and _json(reply)["error"]["code"] == "invalid_state", (state, cookie)
    assert simulator.control.calls(path="auth/getuserinfo") == []
    assert exchange(client, "/api/auth/wecom/session", payload, mine, my_cookie).status_code == 201


def test_only_the_local_stage_sends_members_back_to_a_loopback_page_on_any_port(client, make_tenant, monkeypatch):
    """`make run` and the browser tests serve the app on loopback under a port of their own; a deployed stage never
    hands a code to a loopback page."""
    from urllib.parse import quote

    tenant = make_tenant(public_base_url="https://yq.test")
    path = (f"/api/auth/wecom/authorize-url?tenantKey={tenant.tenant_key}"
            f"&redirectUri={quote('http://127.0.0.1:28411/directory/contacts?tenantKey=x', safe='')}")
    assert client.http.get(path).status_code == 200
    from chalicelib.core import config

    monkeypatch.setattr(config, "stage", lambda: "prod")  # the test client applies the local stage's environment
    refused = client.http.get(path)
    assert refused.status_code == 400 and _json(refused)["error"]["code"] == "invalid_redirect"
