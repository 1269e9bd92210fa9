"""A WeChat friend accepts an invitation through the official account's OAuth: the preview's authorize URL (a per-visit
`invite…` state), the identity exchange (single-use code, state bound to the browser), the signed identity the accept
takes, and the new contact that carries the openid and unionid and is signed in at once."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.directory import audit
from chalicelib.store import accounts as account_store
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from tests.integration.api_support import body, error_code, post_json, session_headers
from tests.integration.oauth_support import exchange
from tests.integration.sharing_support import CHEN, OA_APPID, OPENIDS, UNIONIDS, connect_official_account, sync_customer

FRIEND_UNION, FRIEND_OPENID = "oz4Dq5inviteeUnion00000001", "oInviteeOpenid0001"


@pytest.fixture
def invite(client, sign_in, demo_tenant):
    """`invite()`: a fresh invitation link of lisi's, as (tenantKey, token, invitationId)."""
    lisi = sign_in(demo_tenant, "lisi")

    def make() -> tuple[str, str, str]:
        reply = client.http.post("/api/directory/invitations", headers=lisi, body=json.dumps({"note": "展会"}))
        assert reply.status_code == 201, reply.body
        made = body(reply)
        query = parse_qs(urlsplit(made["link"]).query)
        return query["tenantKey"][0], query["token"][0], made["invitationId"]

    return make


def _preview(client, tenant_key: str, token: str) -> tuple[dict, str | None, str]:
    reply = client.http.get(f"/api/invitations/preview?tenantKey={tenant_key}&token={token}")
    assert reply.status_code == 200, reply.body
    answer = body(reply)
    url = answer["wechatAuthorizeUrl"]
    state = parse_qs(urlsplit(url).query)["state"][0] if url else None
    return answer, state, reply.headers["Set-Cookie"].split(";", 1)[0]


def _code(simulator, unionid: str | None = FRIEND_UNION, openid: str = FRIEND_OPENID) -> str:
    return simulator.control.mint_oauth_code(appid=OA_APPID, openid=openid, **({"unionid": unionid} if unionid else {}))


def _identify(client, simulator, tenant_key: str, token: str, code: str | None = None):
    _answer, state, cookie = _preview(client, tenant_key, token)
    return exchange(client, "/api/invitations/wechat-identity",
                    {"tenantKey": tenant_key, "token": token, "code": code or _code(simulator)}, state, cookie)


def _accept(client, tenant_key: str, token: str, wechat: str | None, name: str = "周女士"):
    return post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": token, "name": name,
                                                         **({"wechat": wechat} if wechat is not None else {})})


def test_the_friend_accepts_through_wechat_and_enters_the_home_at_once(client, simulator, demo_tenant, invite):
    connect_official_account(demo_tenant)
    tenant_key, token, invitation_id = invite()
    preview, state, cookie = _preview(client, tenant_key, token)
    asked = parse_qs(urlsplit(preview["wechatAuthorizeUrl"]).query)
    assert asked["appid"] == [OA_APPID] and asked["scope"] == ["snsapi_userinfo"] and state.startswith("invite")
    back = urlsplit(asked["redirect_uri"][0])
    assert back.path == "/mobile/wechat/external/invite" and parse_qs(back.query)["token"] == [token]

    identified = exchange(client, "/api/invitations/wechat-identity",
                          {"tenantKey": tenant_key, "token": token, "code": _code(simulator)}, state, cookie)
    assert identified.status_code == 201, identified.body
    assert identified.headers["Set-Cookie"].startswith("yq_oauth=;")
    ticket = body(identified)["wechat"]
    assert body(identified)["inviter"] == {"name": "李四"}

    accepted = _accept(client, tenant_key, token, ticket)
    assert accepted.status_code == 201, accepted.body
    session = body(accepted)["session"]
    home = client.http.get("/api/external/home", headers=session_headers(session["token"]))
    assert home.status_code == 200, home.body
    assert body(home)["contact"]["name"] == "周女士"

    contact = contact_store.get(tenant_key, contact_store.invitation_contact_id(invitation_id))
    assert (contact.unionid, contact.openid, contact.adder_id) == (FRIEND_UNION, FRIEND_OPENID, "lisi")
    assert shares.get_home(tenant_key, contact.contact_id).openid == FRIEND_OPENID
    assert account_store.wechat_claim(tenant_key, FRIEND_UNION).contact_id == contact.contact_id
    actions = [(e["actor"], e["action"]) for e in audit.history(tenant_key, contact.contact_id)["entries"]]
    assert (f"invitation:{invitation_id}", "wechat_bound") in actions

    # later visits sign in through WeChat like any contact
    from tests.integration.oauth_support import contact_round_trip

    state, cookie = contact_round_trip(client, tenant_key, "wechat")
    again = exchange(client, "/api/external/session/wechat", {"tenantKey": tenant_key, "code": _code(simulator)},
                     state, cookie)
    assert again.status_code == 201 and body(again)["contact"]["contactId"] == contact.contact_id


def test_forged_states_replayed_codes_and_foreign_identities_are_refused(client, simulator, demo_tenant, invite):
    connect_official_account(demo_tenant)
    tenant_key, token, _id = invite()
    _answer, state, cookie = _preview(client, tenant_key, token)
    forged = exchange(client, "/api/invitations/wechat-identity",
                      {"tenantKey": tenant_key, "token": token, "code": _code(simulator)}, "invite" + "1" * 42, cookie)
    assert forged.status_code == 403 and error_code(forged) == "invalid_state"
    wrong_door = exchange(client, "/api/invitations/wechat-identity",
                          {"tenantKey": tenant_key, "token": token, "code": _code(simulator)},
                          "wechat" + state.removeprefix("invite"), cookie)
    assert wrong_door.status_code == 403 and error_code(wrong_door) == "invalid_state"

    code = _code(simulator)
    assert _identify(client, simulator, tenant_key, token, code).status_code == 201
    replayed = _identify(client, simulator, tenant_key, token, code)
    assert replayed.status_code == 401 and error_code(replayed) == "oauth_failed"

    other_key, other_token, _other = invite()
    ticket_for_other = body(_identify(client, simulator, other_key, other_token))["wechat"]
    cross = _accept(client, tenant_key, token, ticket_for_other)
    assert cross.status_code == 403 and error_code(cross) == "invalid_wechat_identity"
    head, payload, signature = ticket_for_other.split(".")
    tampered = _accept(client, tenant_key, token, f"{head}.{payload[:-2]}AA.{signature}")
    assert tampered.status_code == 403 and error_code(tampered) == "invalid_wechat_identity"
    not_a_string = _accept(client, tenant_key, token, 42)
    assert not_a_string.status_code == 403 and error_code(not_a_string) == "invalid_wechat_identity"
    # nothing was burnt: the link still accepts
    assert _accept(client, tenant_key, token, body(_identify(client, simulator, tenant_key, token))["wechat"]
                   ).status_code == 201


def test_an_expired_identity_is_410_and_another_tenants_token_is_invalid(client, simulator, demo_tenant, invite,
                                                                           monkeypatch, make_tenant):
    from chalicelib.core import clock
    from chalicelib.invitations import wechat

    connect_official_account(demo_tenant)
    tenant_key, token, _id = invite()
    ticket = body(_identify(client, simulator, tenant_key, token))["wechat"]
    later = clock.now() + wechat.IDENTITY_SECONDS + 1
    monkeypatch.setattr(clock, "now", lambda: later)
    expired = _accept(client, tenant_key, token, ticket)
    assert expired.status_code == 410 and error_code(expired) == "wechat_identity_expired"
    monkeypatch.undo()

    other = make_tenant()
    reply = client.http.get(f"/api/invitations/preview?tenantKey={other.tenant_key}&token={token}")
    assert reply.status_code == 404 and error_code(reply) == "invitation_invalid"


def test_a_wechat_that_is_a_contact_already_is_told_so(client, simulator, demo_tenant, invite):
    connect_official_account(demo_tenant)
    sync_customer(demo_tenant, CHEN)
    tenant_key, token, invitation_id = invite()
    known = _identify(client, simulator, tenant_key, token, _code(simulator, UNIONIDS[CHEN], OPENIDS[CHEN]))
    assert known.status_code == 409 and error_code(known) == "already_contact"
    assert contact_store.get(tenant_key, contact_store.invitation_contact_id(invitation_id)) is None


def test_without_an_official_account_the_friend_accepts_without_a_session(client, demo_tenant, invite):
    tenant_key, token, invitation_id = invite()
    preview, state, _cookie = _preview(client, tenant_key, token)
    assert preview["wechatAuthorizeUrl"] is None and state is None
    accepted = _accept(client, tenant_key, token, None)
    assert accepted.status_code == 201 and body(accepted)["session"] is None
    contact = contact_store.get(tenant_key, contact_store.invitation_contact_id(invitation_id))
    assert contact.unionid is None and contact.openid is None
