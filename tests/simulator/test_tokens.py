"""Access tokens behave like WeCom's: issue, reuse, expiry, invalidation, rotation and per-secret permissions."""
from __future__ import annotations

from tests.simulator.support import APP_SECRET, CONTACTS_SECRET, CORPID, EXTERNAL_SECRET


def test_gettoken_answers_token_and_expiry(wecom):
    answer = wecom.get("gettoken", corpid=CORPID, corpsecret=CONTACTS_SECRET)
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert len(answer["access_token"]) >= 32
    assert answer["expires_in"] == 7200


def test_gettoken_rejects_wrong_secret_and_unknown_corp(wecom):
    assert wecom.get("gettoken", corpid=CORPID, corpsecret="nope")["errcode"] == 40001
    assert wecom.get("gettoken", corpid="wwnobody", corpsecret=CONTACTS_SECRET)["errcode"] == 40013
    assert wecom.get("gettoken", corpid=CORPID)["errcode"] == 41004


def test_error_body_looks_like_wecom(wecom):
    answer = wecom.get("user/get", access_token="not-a-token", userid="lisi")
    assert set(answer) == {"errcode", "errmsg"}
    assert answer["errcode"] == 40014
    assert "hint: [" in answer["errmsg"] and answer["errmsg"].endswith("devtool/query?e=40014")


def test_missing_and_unknown_token(wecom):
    assert wecom.get("user/get", userid="lisi")["errcode"] == 41001
    assert wecom.get("user/get", access_token="bogus", userid="lisi")["errcode"] == 40014


def test_same_token_while_valid_in_stable_mode(wecom):
    assert wecom.token() == wecom.token()


def test_token_expires_after_ttl(sim, wecom):
    token = wecom.token()
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 0
    sim.control.advance_clock(7201)
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 42001
    fresh = wecom.token()
    assert fresh != token
    assert wecom.get("user/get", access_token=fresh, userid="lisi")["errcode"] == 0


def test_expired_token_code_is_configurable(sim, wecom):
    sim.control.settings(expired_token_errcode=40014, token_ttl=60)
    token = wecom.token()
    sim.control.advance_clock(61)
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 40014


def test_invalidated_token_answers_40001(sim, wecom):
    token = wecom.token()
    other = wecom.token(EXTERNAL_SECRET)
    assert sim.control.invalidate_tokens(token=token) == 1
    assert wecom.get("user/get", access_token=token, userid="lisi")["errcode"] == 40001
    assert wecom.get("externalcontact/get_follow_user_list", access_token=other)["errcode"] == 0
    assert sim.control.invalidate_tokens(corpid=CORPID) == 1
    assert wecom.get("externalcontact/get_follow_user_list", access_token=other)["errcode"] == 40001


def test_rotate_mode_supersedes_previous_token(sim, wecom):
    sim.control.settings(token_mode="rotate")
    first = wecom.token()
    second = wecom.token()
    assert first != second
    assert wecom.get("user/get", access_token=first, userid="lisi")["errcode"] == 40001
    assert wecom.get("user/get", access_token=second, userid="lisi")["errcode"] == 0
    # Another secret's token is a different credential and is untouched.
    ext_token = wecom.token(EXTERNAL_SECRET)
    wecom.token()
    assert wecom.get("externalcontact/get_follow_user_list", access_token=ext_token)["errcode"] == 0


def test_token_scope_follows_its_secret(wecom):
    contacts, external, app = wecom.token(), wecom.token(EXTERNAL_SECRET), wecom.token(APP_SECRET)
    assert wecom.get("externalcontact/list", access_token=contacts, userid="lisi")["errcode"] == 48002
    assert wecom.post("user/update", {"userid": "lisi"}, access_token=external)["errcode"] == 48002
    assert wecom.post("user/update", {"userid": "lisi"}, access_token=app)["errcode"] == 48002
    assert wecom.get("user/get", access_token=app, userid="lisi")["errcode"] == 0
    assert wecom.get("externalcontact/list", access_token=app, userid="lisi")["errcode"] == 0


def test_live_tokens_are_listed(sim, wecom):
    token = wecom.token()
    live = sim.control.tokens(corpid=CORPID)
    assert [t["token"] for t in live] == [token]
    assert live[0]["kind"] == "contacts"
