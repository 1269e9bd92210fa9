"""External sign-in through OAuth: the login options, WeChat (official account → unionid → contact), WeCom
(auth/getuserinfo → external_userid → contact), and the fallback to the login form (404 no_contact) for anyone who
matches no synced contact of that tenant."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.api_support import body, session_headers
from tests.integration.oauth_support import contact_round_trip, exchange
from tests.integration.sharing_support import (
    CHEN,
    LIN,
    OA_APPID,
    OPENIDS,
    UNIONIDS,
    connect_official_account,
    register,
    share,
    sync_customer,
)

DEMO = Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json"


def _exchange(client, door: str, payload: dict, state_from: str | None = None):
    """The exchange as the page makes it: login-options begins the round trip in this "browser" first."""
    state, cookie = contact_round_trip(client, state_from or payload["tenantKey"], door)
    return exchange(client, f"/api/external/session/{door}", payload, state, cookie)


def _wechat_code(simulator, external_userid: str | None = None, **params) -> str:
    if external_userid:
        params.setdefault("openid", OPENIDS[external_userid])
        params.setdefault("unionid", UNIONIDS[external_userid])
    return simulator.control.mint_oauth_code(appid=OA_APPID, **params)


# --- login options -------------------------------------------------------------------------------------------------
def test_login_options_name_the_tenant_and_its_oauth_pages(client, demo_tenant):
    connect_official_account(demo_tenant)
    reply = client.http.get(f"/api/external/login-options?tenantKey={demo_tenant.tenant_key}")
    assert reply.status_code == 200
    options = body(reply)
    assert options["tenant"] == {"tenantKey": demo_tenant.tenant_key, "name": demo_tenant.name}
    home = f"https://yq.test/mobile/wechat/external/home?tenantKey={demo_tenant.tenant_key}"
    wechat = parse_qs(urlsplit(options["wechatAuthorizeUrl"]).query)
    state = wechat.pop("state")[0]
    assert wechat == {"appid": [OA_APPID], "redirect_uri": [home], "response_type": ["code"],
                      "scope": ["snsapi_userinfo"]}
    assert re.fullmatch(r"wechat[0-9]{10}[0-9a-f]{32}", state)  # WeChat allows [a-zA-Z0-9] only, 128 bytes at most
    assert options["wechatAuthorizeUrl"].endswith("#wechat_redirect")
    wecom = parse_qs(urlsplit(options["wecomAuthorizeUrl"]).query)
    assert wecom["appid"] == [demo_tenant.corp_id] and wecom["redirect_uri"] == [home]
    assert wecom["state"] == ["wecom" + state.removeprefix("wechat")]
    cookie = reply.headers["Set-Cookie"]
    assert cookie == f"yq_oauth={state.removeprefix('wechat')}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"
    assert reply.headers["Cache-Control"] == "no-store"
    assert wecom["agentid"] == [demo_tenant.agent_id] and wecom["scope"] == ["snsapi_base"]


def test_login_options_without_an_official_account_or_tenant(client, make_tenant):
    tenant = make_tenant()
    options = body(client.http.get(f"/api/external/login-options?tenantKey={tenant.tenant_key}"))
    assert options["wechatAuthorizeUrl"] is None and options["wecomAuthorizeUrl"]
    unknown = client.http.get("/api/external/login-options?tenantKey=tnnope00000")
    assert unknown.status_code == 404 and body(unknown)["error"]["code"] == "tenant_not_found"


# --- WeChat --------------------------------------------------------------------------------------------------------
def test_wechat_oauth_signs_the_contact_with_that_unionid_in(client, simulator, demo_tenant, sign_in):
    from chalicelib.store import shares

    connect_official_account(demo_tenant)
    chen = sync_customer(demo_tenant, CHEN)
    owner = sign_in(demo_tenant, "zhangsan")
    register(client, owner, "task", "T-1", title="陈的任务")
    share(client, owner, "task", "T-1", chen.contact_id)
    reply = _exchange(client, "wechat", {"tenantKey": demo_tenant.tenant_key, "code": _wechat_code(simulator, CHEN)})
    assert reply.status_code == 201, reply.body
    answer = body(reply)
    assert answer["contact"]["contactId"] == chen.contact_id and answer["method"] == "wechat_oauth"
    assert answer["mustChangePassword"] is False
    home = body(client.http.get("/api/external/home", headers=session_headers(answer["token"])))
    assert [i["title"] for i in home["latest"]["task"]] == ["陈的任务"]
    assert shares.get_home(demo_tenant.tenant_key, chen.contact_id).openid == OPENIDS[CHEN]
    who = body(client.http.get("/api/auth/session", headers=session_headers(answer["token"])))
    assert who["kind"] == "contact" and who["contactId"] == chen.contact_id


def test_the_demo_scenarios_code_matches_the_demo_contact(client, demo_tenant):
    connect_official_account(demo_tenant)
    chen = sync_customer(demo_tenant, CHEN)
    reply = _exchange(client, "wechat", {"tenantKey": demo_tenant.tenant_key,
                                                           "code": "demo-oa-code-0001"})
    assert reply.status_code == 201 and body(reply)["contact"]["contactId"] == chen.contact_id


@pytest.mark.parametrize("params", [
    {"openid": "oStranger", "unionid": "oz4Dq5strangerUnion"},  # nobody the tenant knows
    {"openid": OPENIDS[LIN], "unionid": UNIONIDS[LIN]},  # a customer of the corp this tenant has not synced
    {"openid": "oNoUnion", "scope": "snsapi_base"},  # no unionid to match on
])
def test_a_wechat_visitor_matching_no_synced_contact_gets_the_login_form(client, simulator, demo_tenant, params):
    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)
    reply = _exchange(client, "wechat", {"tenantKey": demo_tenant.tenant_key, "code": _wechat_code(simulator, **params)})
    assert reply.status_code == 404 and body(reply)["error"]["code"] == "no_contact"


def test_a_contact_of_one_tenant_is_nobody_in_another(client, simulator, demo_tenant):
    from chalicelib.tenants import onboarding
    from dev.seed import seed

    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)
    other = seed(DEMO, onboarding.new_tenant_key())
    connect_official_account(other)
    reply = _exchange(client, "wechat", {"tenantKey": other.tenant_key, "code": _wechat_code(simulator, CHEN)})
    assert reply.status_code == 404 and body(reply)["error"]["code"] == "no_contact"


def test_wechat_codes_are_single_use_and_need_an_official_account(client, simulator, demo_tenant, make_tenant):
    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)
    code = _wechat_code(simulator, CHEN)
    assert _exchange(client, "wechat", {"tenantKey": demo_tenant.tenant_key, "code": code}).status_code == 201
    again = _exchange(client, "wechat", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert again.status_code == 401 and body(again)["error"]["code"] == "oauth_failed"
    missing = _exchange(client, "wechat", {"tenantKey": demo_tenant.tenant_key, "code": ""})
    assert missing.status_code == 400 and body(missing)["error"]["code"] == "invalid_code"
    bare = make_tenant()
    unconfigured = _exchange(client, "wechat", {"tenantKey": bare.tenant_key, "code": _wechat_code(simulator, CHEN)})
    assert unconfigured.status_code == 404 and body(unconfigured)["error"]["code"] == "wechat_not_configured"


# --- WeCom ---------------------------------------------------------------------------------------------------------
def test_wecom_oauth_signs_the_synced_customer_in(client, simulator, demo_tenant):
    chen = sync_customer(demo_tenant, CHEN)
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, external_userid=CHEN)
    reply = _exchange(client, "wecom", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 201, reply.body
    answer = body(reply)
    assert answer["contact"]["contactId"] == chen.contact_id and answer["method"] == "wecom_oauth"
    assert client.http.get("/api/external/home", headers=session_headers(answer["token"])).status_code == 200


@pytest.mark.parametrize("params", [
    {"external_userid": LIN},  # a customer the tenant has not synced
    {"userid": "lisi"},  # a member of the team: not an external contact
    {"openid": "oWeComStranger"},  # someone with no relation to the corp at all
])
def test_a_wecom_visitor_matching_no_synced_contact_gets_the_login_form(client, simulator, demo_tenant, params):
    sync_customer(demo_tenant, CHEN)
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, **params)
    reply = _exchange(client, "wecom", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 404 and body(reply)["error"] == {
        "code": "no_contact", "message": "没有找到与您对应的外部联系人，请使用账号登录"}


def test_a_bad_wecom_code_is_refused(client, demo_tenant):
    reply = _exchange(client, "wecom", {"tenantKey": demo_tenant.tenant_key, "code": "forged"})
    assert reply.status_code == 401 and body(reply)["error"]["code"] == "oauth_failed"
    unknown = _exchange(client, "wecom", {"tenantKey": "tnnope00000", "code": "x"}, state_from=demo_tenant.tenant_key)
    assert unknown.status_code == 404 and body(unknown)["error"]["code"] == "tenant_not_found"


def test_a_disabled_account_bars_oauth_sign_in_too(client, simulator, demo_tenant, sign_in):
    from chalicelib.accounts import service
    from chalicelib.store import roles

    chen = sync_customer(demo_tenant, CHEN)
    service.open_account(demo_tenant, chen.contact_id, actor="zhangsan")
    admin = sign_in(demo_tenant, "zhangsan", roles=(roles.ADMIN,))
    assert client.http.post(f"/api/directory/contacts/{chen.contact_id}/account/disable",
                            headers=admin).status_code == 200
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, external_userid=CHEN)
    reply = _exchange(client, "wecom", {"tenantKey": demo_tenant.tenant_key, "code": code})
    assert reply.status_code == 403 and body(reply)["error"]["code"] == "account_disabled"


# --- the round trip's state: login CSRF (issue 19, finding 3) ----------------------------------------------------
def test_a_code_carried_by_someone_elses_link_is_refused_before_it_is_exchanged(client, simulator, demo_tenant):
    """The attacker begins a round trip in their browser, gets a code for themself and stops; the link
    `home?code=<theirs>&state=<theirs>` opened in the victim's browser must not sign the victim in as them."""
    sync_customer(demo_tenant, CHEN)
    theirs, their_cookie = contact_round_trip(client, demo_tenant.tenant_key, "wecom")
    mine, my_cookie = contact_round_trip(client, demo_tenant.tenant_key, "wecom")
    code = simulator.control.mint_oauth_code(corpid=demo_tenant.corp_id, external_userid=CHEN)
    payload = {"tenantKey": demo_tenant.tenant_key, "code": code}
    expired = "0000000001" + "0" * 32
    simulator.control.reset_calls()
    for door, state, cookie in [
        ("wecom", theirs, my_cookie),  # the forged link in the victim's browser
        ("wecom", theirs, None),  # a browser that never began a round trip
        ("wecom", "wecom", my_cookie),  # the constant state of old
        ("wecom", None, my_cookie),
        ("wechat", mine.replace("wecom", "wechat", 1), my_cookie.replace(mine[5:], "x" * 42)),
        ("wechat", mine, my_cookie),  # a state for the other door
        ("wecom", "wecom" + expired, f"yq_oauth={expired}"),  # too old
    ]:
        reply = exchange(client, f"/api/external/session/{door}", payload, state, cookie)
        assert reply.status_code == 403 and body(reply)["error"]["code"] == "invalid_state", (state, cookie)
        assert "yq_oauth=; Path=/; Max-Age=0" in reply.headers["Set-Cookie"]
    assert simulator.control.calls(path="auth/getuserinfo") == []  # checked before any code went to WeCom

    reply = exchange(client, "/api/external/session/wecom", payload, theirs, their_cookie)
    assert reply.status_code == 201  # in the browser that began it, the round trip works
    assert "yq_oauth=; Path=/; Max-Age=0" in reply.headers["Set-Cookie"]  # and is over
