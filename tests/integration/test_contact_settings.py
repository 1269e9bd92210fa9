"""The contact's own settings through HTTP, against the emulator and the simulator's official account: what `me` shows
(account name, password, WeChat, apps), password change, profile edit, binding and unbinding WeChat through the
official account's OAuth (per-visit state, single-use codes), the forgotten-password path, and the apps on the home."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.accounts import service
from chalicelib.directory import audit
from chalicelib.directory.contacts import create_contact
from chalicelib.store import accounts as account_store
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from tests.integration.api_support import body, error_code, post_json, session_headers
from tests.integration.oauth_support import contact_round_trip, exchange
from tests.integration.sharing_support import (
    CHEN,
    OA_APPID,
    OPENIDS,
    UNIONIDS,
    connect_official_account,
    contact_headers,
    sync_customer,
)

STRONG = "Harbour-Lights-42"
NEWER = "Quiet-River-Stone-7"
FRIEND_UNION, FRIEND_OPENID = "oz4Dq5friendUnion000000001", "oFriendOpenid0001"


@pytest.fixture
def wang(demo_tenant):
    """A manually added contact (zhangsan added them) with an active password account."""
    contact = create_contact(demo_tenant, {"name": "王采购", "mobile": "13800138000", "position": "采购经理"},
                             source="manual", adder_id="zhangsan", actor="zhangsan")
    opened = service.open_account(demo_tenant, contact.contact_id, actor="zhangsan", account_name="wang.caigou")
    token = urlsplit(opened["activationUrl"]).fragment.removeprefix("activate=")
    service.activate(demo_tenant.tenant_key, token, STRONG)
    return contact_store.get(demo_tenant.tenant_key, contact.contact_id)


def _password_session(client, tenant, account: str = "wang.caigou", password: str = STRONG) -> dict:
    reply = post_json(client, "/api/external/session/password",
                      {"tenantKey": tenant.tenant_key, "account": account, "password": password})
    assert reply.status_code == 201, reply.body
    return session_headers(body(reply)["token"])


def _code(simulator, unionid: str | None = FRIEND_UNION, openid: str = FRIEND_OPENID) -> str:
    params = {"openid": openid, **({"unionid": unionid} if unionid else {})}
    return simulator.control.mint_oauth_code(appid=OA_APPID, **params)


def _begin_binding(client, headers: dict) -> tuple[str, str, str]:
    """(authorize URL, state, cookie) as the settings page begins a binding."""
    reply = client.http.post("/api/external/me/wechat/authorize", headers=headers)
    assert reply.status_code == 200, reply.body
    url = body(reply)["url"]
    return url, parse_qs(urlsplit(url).query)["state"][0], reply.headers["Set-Cookie"].split(";", 1)[0]


def _bind(client, headers: dict, code: str, state: str | None = None, cookie: str | None = None):
    if state is None:
        _url, state, cookie = _begin_binding(client, headers)
    return client.http.post("/api/external/me/wechat", headers={**headers, "Cookie": cookie or ""},
                            body=json.dumps({"code": code, "state": state}))


def _wechat_sign_in(client, tenant, code: str):
    state, cookie = contact_round_trip(client, tenant.tenant_key, "wechat")
    return exchange(client, "/api/external/session/wechat", {"tenantKey": tenant.tenant_key, "code": code}, state,
                    cookie)


def _begin_reset(client, tenant) -> tuple[dict, str | None, str]:
    reply = client.http.get(f"/api/external/password-reset/options?tenantKey={tenant.tenant_key}")
    assert reply.status_code == 200, reply.body
    options = body(reply)
    url = options["wechatAuthorizeUrl"]
    state = parse_qs(urlsplit(url).query)["state"][0] if url else None
    return options, state, reply.headers["Set-Cookie"].split(";", 1)[0]


def _reset(client, tenant, code: str):
    _options, state, cookie = _begin_reset(client, tenant)
    return exchange(client, "/api/external/password-reset/wechat", {"tenantKey": tenant.tenant_key, "code": code},
                    state, cookie)


def _actions(tenant, contact_id: str) -> list[tuple[str, str]]:
    return [(entry["actor"], entry["action"]) for entry in audit.history(tenant.tenant_key, contact_id)["entries"]]


# --- what the settings show ----------------------------------------------------------------------------------------
def test_me_shows_the_account_name_password_wechat_and_the_apps(client, demo_tenant, wang):
    headers = _password_session(client, demo_tenant)
    me = body(client.http.get("/api/external/me", headers=headers))
    assert me["accountName"] == "wang.caigou" and me["passwordSet"] is True
    assert me["wechat"] == {"bound": False, "available": False, "fromWeCom": False}
    assert [app["label"] for app in me["apps"]][:3] == ["待办", "任务", "项目"] and len(me["apps"]) == 17

    connect_official_account(demo_tenant)
    assert body(client.http.get("/api/external/me", headers=headers))["wechat"]["available"] is True
    oauth_only = body(client.http.get("/api/external/me", headers=contact_headers(
        demo_tenant, sync_customer(demo_tenant, CHEN).contact_id)))
    assert oauth_only["accountName"] is None and oauth_only["passwordSet"] is False
    assert oauth_only["wechat"] == {"bound": True, "available": True, "fromWeCom": True}


def test_the_password_change_needs_the_current_password_a_strong_new_one_and_is_throttled(client, demo_tenant, wang):
    headers = _password_session(client, demo_tenant)
    other = _password_session(client, demo_tenant)
    path = "/api/external/me/password"
    wrong = post_json(client, path, {"currentPassword": "not-it-at-all", "newPassword": NEWER}, headers)
    assert wrong.status_code == 403 and error_code(wrong) == "invalid_current_password"
    weak = post_json(client, path, {"currentPassword": STRONG, "newPassword": "short"}, headers)
    assert weak.status_code == 400 and error_code(weak) == "weak_password"
    named = post_json(client, path, {"currentPassword": STRONG, "newPassword": "Wang.Caigou-2025"}, headers)
    assert named.status_code == 400 and error_code(named) == "weak_password"
    missing = post_json(client, path, {"newPassword": NEWER}, headers)
    assert missing.status_code == 400 and error_code(missing) == "invalid_body"

    changed = post_json(client, path, {"currentPassword": STRONG, "newPassword": NEWER}, headers)
    assert changed.status_code == 200, changed.body
    assert body(changed)["otherSessionsEnded"] == 2  # the activation's session and the other sign-in
    assert client.http.get("/api/external/me", headers=other).status_code == 401
    assert client.http.get("/api/external/me", headers=headers).status_code == 200
    assert ("contact:" + wang.contact_id, "account_password_changed") in _actions(demo_tenant, wang.contact_id)
    _password_session(client, demo_tenant, password=NEWER)

    # wrong current passwords count like failed sign-ins from that source: after the free ones, a wait
    codes = [error_code(post_json(client, path, {"currentPassword": f"Wrong-guess-{n}!", "newPassword": STRONG},
                                  headers)) for n in range(6)]
    assert codes[:4] == ["invalid_current_password"] * 4 and "too_many_attempts" in codes[4:]
    throttled = post_json(client, path, {"currentPassword": NEWER, "newPassword": STRONG}, headers)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0


def test_the_profile_is_edited_through_the_directory_validators(client, demo_tenant, wang):
    headers = _password_session(client, demo_tenant)
    bad = client.http.patch("/api/external/me", headers=headers, body=json.dumps({"mobile": "12ab"}))
    assert bad.status_code == 400 and error_code(bad) == "invalid_mobile"
    unknown = client.http.patch("/api/external/me", headers=headers, body=json.dumps({"remark": "VIP"}))
    assert unknown.status_code == 400 and error_code(unknown) == "unknown_field"
    ok = client.http.patch("/api/external/me", headers=headers,
                           body=json.dumps({"mobile": "13900139000", "email": "wang@example.com"}))
    assert ok.status_code == 200, ok.body
    assert body(ok)["contact"]["mobile"] == "13900139000"
    assert contact_store.get(demo_tenant.tenant_key, wang.contact_id).email == "wang@example.com"
    assert ("contact:" + wang.contact_id, "edit") in _actions(demo_tenant, wang.contact_id)


# --- binding WeChat ------------------------------------------------------------------------------------------------
def test_binding_wechat_makes_wechat_sign_in_work_for_the_account(client, simulator, demo_tenant, wang):
    headers = _password_session(client, demo_tenant)
    refused = client.http.post("/api/external/me/wechat/authorize", headers=headers)
    assert refused.status_code == 404 and error_code(refused) == "wechat_not_configured"

    connect_official_account(demo_tenant)
    before = _wechat_sign_in(client, demo_tenant, _code(simulator))
    assert before.status_code == 404 and error_code(before) == "no_contact"

    url, state, cookie = _begin_binding(client, headers)
    asked = parse_qs(urlsplit(url).query)
    assert asked["appid"] == [OA_APPID] and asked["scope"] == ["snsapi_userinfo"] and state.startswith("bind")
    assert asked["redirect_uri"] == [f"https://yq.test/mobile/wechat/external/home?tenantKey={demo_tenant.tenant_key}"]
    bound = _bind(client, headers, _code(simulator), state, cookie)
    assert bound.status_code == 201, bound.body
    assert body(bound)["wechat"]["bound"] is True
    assert "yq_oauth=;" in bound.headers["Set-Cookie"]  # one exchange per state
    stored = contact_store.get(demo_tenant.tenant_key, wang.contact_id)
    assert (stored.unionid, stored.openid) == (FRIEND_UNION, FRIEND_OPENID)
    assert shares.get_home(demo_tenant.tenant_key, wang.contact_id).openid == FRIEND_OPENID
    assert account_store.wechat_claim(demo_tenant.tenant_key, FRIEND_UNION).contact_id == wang.contact_id
    assert ("contact:" + wang.contact_id, "wechat_bound") in _actions(demo_tenant, wang.contact_id)

    signed_in = _wechat_sign_in(client, demo_tenant, _code(simulator))
    assert signed_in.status_code == 201, signed_in.body
    assert body(signed_in)["contact"]["contactId"] == wang.contact_id

    trail = _actions(demo_tenant, wang.contact_id)
    again = _bind(client, headers, _code(simulator))  # the same WeChat again: nothing changes
    assert again.status_code == 201 and _actions(demo_tenant, wang.contact_id) == trail
    other = _bind(client, headers, _code(simulator, "oz4Dq5otherUnion0000000001", "oOther0001"))
    assert other.status_code == 409 and error_code(other) == "wechat_bound_already"


def test_a_binding_refuses_forged_states_replayed_codes_and_someone_elses_wechat(client, simulator, demo_tenant,
                                                                                 wang, make_tenant):
    connect_official_account(demo_tenant)
    headers = _password_session(client, demo_tenant)
    _url, state, cookie = _begin_binding(client, headers)
    forged = _bind(client, headers, _code(simulator), state[:-4] + "0000", cookie)
    assert forged.status_code == 403 and error_code(forged) == "invalid_state"
    no_cookie = _bind(client, headers, _code(simulator), state, "yq_oauth=")
    assert no_cookie.status_code == 403 and error_code(no_cookie) == "invalid_state"
    login_state, login_cookie = contact_round_trip(client, demo_tenant.tenant_key, "wechat")
    other_door = _bind(client, headers, _code(simulator), login_state, login_cookie)
    assert other_door.status_code == 403 and error_code(other_door) == "invalid_state"

    used = _code(simulator)
    assert _wechat_sign_in(client, demo_tenant, used).status_code == 404  # someone spent the code first
    replayed = _bind(client, headers, used)
    assert replayed.status_code == 401 and error_code(replayed) == "oauth_failed"

    chen = sync_customer(demo_tenant, CHEN)
    taken = _bind(client, headers, _code(simulator, UNIONIDS[CHEN], OPENIDS[CHEN]))
    assert taken.status_code == 409 and error_code(taken) == "wechat_in_use"
    no_union = _bind(client, headers, _code(simulator, unionid=None))
    assert no_union.status_code == 409 and error_code(no_union) == "unionid_unavailable"
    assert contact_store.get(demo_tenant.tenant_key, wang.contact_id).unionid is None
    assert contact_store.get(demo_tenant.tenant_key, chen.contact_id).unionid == UNIONIDS[CHEN]

    anonymous = client.http.post("/api/external/me/wechat/authorize")
    assert anonymous.status_code == 401
    member = client.http.post("/api/external/me/wechat/authorize",
                              headers=session_headers(_member_token(demo_tenant)))
    assert member.status_code == 401 and error_code(member) == "contact_session_required"

    # The claim is per team: another team's contact binds the same WeChat, and each team's sign-in finds its own.
    second = make_tenant()
    connect_official_account(second)
    theirs = create_contact(second, {"name": "王采购"}, source="manual", adder_id=None, actor="test")
    bound_there = _bind(client, contact_headers(second, theirs.contact_id), _code(simulator))
    assert bound_there.status_code == 201, bound_there.body
    bound_here = _bind(client, headers, _code(simulator))
    assert bound_here.status_code == 201, bound_here.body
    here = body(_wechat_sign_in(client, demo_tenant, _code(simulator)))
    there = body(_wechat_sign_in(client, second, _code(simulator)))
    assert (here["contact"]["contactId"], there["contact"]["contactId"]) == (wang.contact_id, theirs.contact_id)


def _member_token(tenant) -> str:
    from chalicelib.auth import sessions

    return sessions.issue(tenant.tenant_key, sessions.MEMBER, "zhangsan", "wecom_oauth").token


def test_two_contacts_binding_one_wechat_at_once_one_wins(client, simulator, demo_tenant, wang):
    """Both read no holder; the claim in the same transaction as the contact's write lets one through."""
    from chalicelib.accounts import binding
    from chalicelib.directory import contacts as directory

    connect_official_account(demo_tenant)
    zhao = create_contact(demo_tenant, {"name": "赵经理"}, source="manual", adder_id="zhangsan", actor="zhangsan")
    directory.set_wechat(wang, FRIEND_UNION, FRIEND_OPENID, actor="test", action=binding.BOUND,
                         claim=lambda tx: account_store.claim_wechat_in(tx, demo_tenant.tenant_key, FRIEND_UNION,
                                                                        wang.contact_id))
    with pytest.raises(Exception) as lost:
        directory.set_wechat(zhao, FRIEND_UNION, FRIEND_OPENID, actor="test", action=binding.BOUND,
                             claim=lambda tx: account_store.claim_wechat_in(tx, demo_tenant.tenant_key,
                                                                            FRIEND_UNION, zhao.contact_id))
    assert getattr(lost.value, "code", None) == "wechat_in_use"
    assert contact_store.get(demo_tenant.tenant_key, zhao.contact_id).unionid is None


# --- unbinding -----------------------------------------------------------------------------------------------------
def test_unbinding_stops_wechat_sign_in_and_messages_and_ends_other_sessions(client, simulator, demo_tenant, wang):
    connect_official_account(demo_tenant)
    headers = _password_session(client, demo_tenant)
    not_bound = client.http.delete("/api/external/me/wechat", headers=headers)
    assert not_bound.status_code == 409 and error_code(not_bound) == "wechat_not_bound"
    assert _bind(client, headers, _code(simulator)).status_code == 201
    wechat_session = session_headers(body(_wechat_sign_in(client, demo_tenant, _code(simulator)))["token"])

    unbound = client.http.delete("/api/external/me/wechat", headers=headers)
    assert unbound.status_code == 200, unbound.body
    assert body(unbound)["wechat"]["bound"] is False and body(unbound)["otherSessionsEnded"] == 2
    assert client.http.get("/api/external/me", headers=wechat_session).status_code == 401
    stored = contact_store.get(demo_tenant.tenant_key, wang.contact_id)
    assert (stored.unionid, stored.openid, stored.union_key) == (None, None, None)
    assert shares.get_home(demo_tenant.tenant_key, wang.contact_id).openid is None
    assert account_store.wechat_claim(demo_tenant.tenant_key, FRIEND_UNION) is None
    assert ("contact:" + wang.contact_id, "wechat_unbound") in _actions(demo_tenant, wang.contact_id)
    after = _wechat_sign_in(client, demo_tenant, _code(simulator))
    assert after.status_code == 404 and error_code(after) == "no_contact"


def test_unbinding_is_refused_when_it_would_leave_no_way_in(client, simulator, demo_tenant):
    connect_official_account(demo_tenant)
    chen = sync_customer(demo_tenant, CHEN)
    from_wecom = client.http.delete("/api/external/me/wechat", headers=contact_headers(demo_tenant, chen.contact_id))
    assert from_wecom.status_code == 409 and error_code(from_wecom) == "wechat_from_wecom"

    zhao = create_contact(demo_tenant, {"name": "赵经理"}, source="manual", adder_id="zhangsan", actor="zhangsan")
    headers = contact_headers(demo_tenant, zhao.contact_id, "wechat_oauth")
    assert _bind(client, headers, _code(simulator)).status_code == 201
    no_password = client.http.delete("/api/external/me/wechat", headers=headers)
    assert no_password.status_code == 409 and error_code(no_password) == "password_required"
    assert contact_store.get(demo_tenant.tenant_key, zhao.contact_id).unionid == FRIEND_UNION


# --- a forgotten password ------------------------------------------------------------------------------------------
def test_without_an_official_account_the_answer_is_to_ask_the_contact_person(client, demo_tenant, wang):
    options, state, _cookie = _begin_reset(client, demo_tenant)
    assert options["wechatAuthorizeUrl"] is None and state is None
    assert "对接人" in options["askContactPerson"] and "管理员" in options["askContactPerson"]
    unknown = client.http.get("/api/external/password-reset/options?tenantKey=tnnope00000")
    assert unknown.status_code == 404 and error_code(unknown) == "tenant_not_found"


def test_the_bound_wechat_resets_a_forgotten_password(client, simulator, demo_tenant, wang, sign_in):
    connect_official_account(demo_tenant)
    unbound = _reset(client, demo_tenant, _code(simulator))
    assert unbound.status_code == 404 and error_code(unbound) == "wechat_not_bound"
    assert "contact person" in body(unbound)["error"]["message"]

    assert _bind(client, _password_session(client, demo_tenant), _code(simulator)).status_code == 201
    options, state, cookie = _begin_reset(client, demo_tenant)
    assert state.startswith("reset")
    assert parse_qs(urlsplit(options["wechatAuthorizeUrl"]).query)["scope"] == ["snsapi_userinfo"]
    forged = exchange(client, "/api/external/password-reset/wechat",
                      {"tenantKey": demo_tenant.tenant_key, "code": _code(simulator)}, "reset" + "0" * 42, cookie)
    assert forged.status_code == 403 and error_code(forged) == "invalid_state"
    code = _code(simulator)
    reset = _reset(client, demo_tenant, code)
    assert reset.status_code == 201, reset.body
    issued = body(reset)
    assert issued["accountName"] == "wang.caigou"
    replayed = _reset(client, demo_tenant, code)
    assert replayed.status_code == 401 and error_code(replayed) == "oauth_failed"
    assert ("contact:" + wang.contact_id, "password_reset_wechat") in _actions(demo_tenant, wang.contact_id)

    still = _password_session(client, demo_tenant)  # the old password works until the link is used
    token = urlsplit(issued["activationUrl"]).fragment.removeprefix("activate=")
    weak = post_json(client, "/api/external/activation",
                     {"tenantKey": demo_tenant.tenant_key, "token": token, "password": "short"})
    assert weak.status_code == 400 and error_code(weak) == "weak_password"
    done = post_json(client, "/api/external/activation",
                     {"tenantKey": demo_tenant.tenant_key, "token": token, "password": NEWER})
    assert done.status_code == 201, done.body
    assert client.http.get("/api/external/me", headers=still).status_code == 401
    _password_session(client, demo_tenant, password=NEWER)
    old = post_json(client, "/api/external/session/password",
                    {"tenantKey": demo_tenant.tenant_key, "account": "wang.caigou", "password": STRONG})
    assert old.status_code == 401

    # a disabled account is told so; another team's reset never finds this team's contact
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    assert client.http.post(f"/api/directory/contacts/{wang.contact_id}/account/disable",
                            headers=admin).status_code == 200
    disabled = _reset(client, demo_tenant, _code(simulator))
    assert disabled.status_code == 403 and error_code(disabled) == "account_disabled"


def test_a_contact_without_an_account_is_told_to_ask(client, simulator, demo_tenant):
    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)  # bound through WeCom, but no account
    answer = _reset(client, demo_tenant, _code(simulator, UNIONIDS[CHEN], OPENIDS[CHEN]))
    assert answer.status_code == 404 and error_code(answer) == "wechat_not_bound"


# --- apps on the home ----------------------------------------------------------------------------------------------
def test_the_home_shows_the_open_apps_and_leaves_closed_apps_sections_out(client, demo_tenant, wang, sign_in):
    headers = _password_session(client, demo_tenant)
    home = body(client.http.get("/api/external/home", headers=headers))
    assert len(home["apps"]) == 17 and home["apps"][0] == {"key": "todos", "label": "待办"}
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    reply = client.http.put("/api/directory/external-apps", headers=admin,
                            body=json.dumps({"apps": ["documents", "schedules"]}))
    assert reply.status_code == 200, reply.body
    home = body(client.http.get("/api/external/home", headers=headers))
    assert home["apps"] == [{"key": "schedules", "label": "日程"}, {"key": "documents", "label": "文档"}]
    assert [section["key"] for section in home["sections"]] == ["documents", "schedules"]
    assert [app["key"] for app in body(client.http.get("/api/external/me", headers=headers))["apps"]] == [
        "schedules", "documents"]


# --- the local stack's demo ----------------------------------------------------------------------------------------
def test_the_demo_seeds_a_password_account_for_a_contact_whose_wechat_is_not_known(client, simulator, demo_tenant):
    """make run: 陈先生's WeChat comes from WeCom; 陈总 (added by hand) binds one in the settings."""
    from dev.seed_accounts import INITIAL_PASSWORD, MANUAL_ACCOUNT_NAME, MANUAL_CONTACT, seed_accounts
    from dev.seed_directory import seed_directory
    from dev.seed_sharing import DEMO_CUSTOMER

    seed_directory(demo_tenant)
    seed_accounts(demo_tenant, DEMO_CUSTOMER)
    seed_accounts(demo_tenant, DEMO_CUSTOMER)  # idempotent
    connect_official_account(demo_tenant)
    headers = _password_session(client, demo_tenant, MANUAL_ACCOUNT_NAME, INITIAL_PASSWORD)
    must_change = client.http.post("/api/external/me/wechat/authorize", headers=headers)
    assert must_change.status_code == 403 and error_code(must_change) == "password_change_required"
    changed = post_json(client, "/api/external/me/password",
                        {"currentPassword": INITIAL_PASSWORD, "newPassword": NEWER}, headers)
    assert changed.status_code == 200, changed.body
    me = body(client.http.get("/api/external/me", headers=headers))
    assert me["accountName"] == MANUAL_ACCOUNT_NAME and me["wechat"] == {"bound": False, "available": True,
                                                                         "fromWeCom": False}
    assert _bind(client, headers, _code(simulator)).status_code == 201
    assert body(_wechat_sign_in(client, demo_tenant, _code(simulator)))["contact"]["contactId"] == MANUAL_CONTACT
    chen = _password_session(client, demo_tenant, "chen.demo", INITIAL_PASSWORD)
    assert body(client.http.get("/api/external/me", headers=chen))["wechat"]["fromWeCom"] is True
