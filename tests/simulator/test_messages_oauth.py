"""message/send and the two OAuth code exchanges."""
from __future__ import annotations

from tests.simulator.support import AGENTID, APP_SECRET, CORPID2, OA_APPID, OA_SECRET


def _text(touser, content="hi"):
    return {"touser": touser, "msgtype": "text", "agentid": AGENTID, "text": {"content": content}}


def test_message_send_records_the_message(sim, wecom):
    token = wecom.token(APP_SECRET)
    answer = wecom.post("message/send", _text("lisi|ghost|zhangsan"), access_token=token)
    assert answer["errcode"] == 0 and answer["invaliduser"] == "ghost" and answer["msgid"]
    messages = sim.control.messages(touser="lisi")
    assert len(messages) == 1
    assert messages[0]["touser"] == ["lisi", "zhangsan"] and messages[0]["delivered"] == ["lisi", "zhangsan"]
    assert messages[0]["body"]["text"]["content"] == "hi"


def test_message_send_errors(wecom):
    token = wecom.token(APP_SECRET)
    assert wecom.post("message/send", _text("ghost"), access_token=token)["errcode"] == 81013
    assert wecom.post("message/send", {**_text("lisi"), "agentid": 1}, access_token=token)["errcode"] == 40056
    assert wecom.post("message/send", _text("lisi", ""), access_token=token)["errcode"] == 44004


def test_message_over_30_per_minute_is_dropped_not_refused(sim, wecom):
    token = wecom.token(APP_SECRET)
    for n in range(31):
        assert wecom.post("message/send", _text("lisi", f"m{n}"), access_token=token)["errcode"] == 0
    messages = sim.control.messages(touser="lisi")
    assert [m["delivered"] for m in messages].count(["lisi"]) == 30
    assert messages[-1]["dropped"] == ["lisi"]
    sim.control.advance_clock(60)
    wecom.post("message/send", _text("lisi", "later"), access_token=token)
    assert sim.control.messages(touser="lisi")[-1]["delivered"] == ["lisi"]


def test_oauth_code_for_member_is_single_use(sim, wecom):
    token = wecom.token(APP_SECRET)
    code = sim.control.mint_oauth_code(userid="lisi")
    assert wecom.get("auth/getuserinfo", access_token=token, code=code) == {"errcode": 0, "errmsg": "ok",
                                                                            "userid": "lisi"}
    assert wecom.get("auth/getuserinfo", access_token=token, code=code)["errcode"] == 40029


def test_oauth_code_expires_after_five_minutes(sim, wecom):
    token = wecom.token(APP_SECRET)
    code = sim.control.mint_oauth_code(userid="lisi")
    sim.control.advance_clock(301)
    fresh = wecom.token(APP_SECRET)
    assert wecom.get("auth/getuserinfo", access_token=fresh, code=code)["errcode"] == 40029
    assert token == fresh  # 301 s is well inside the token's life


def test_oauth_code_for_external_user(sim, wecom):
    token = wecom.token(APP_SECRET)
    ext = wecom.get("externalcontact/list", access_token=token, userid="lisi")["external_userid"][0]
    code = sim.control.mint_oauth_code(external_userid=ext)
    answer = wecom.get("auth/getuserinfo", access_token=token, code=code)
    assert answer["errcode"] == 0 and answer["external_userid"] == ext and answer["openid"]
    assert "userid" not in answer


def test_oauth_code_of_another_corp_is_refused(sim, wecom):
    code = sim.control.mint_oauth_code(userid="admin2", corpid=CORPID2)
    assert wecom.get("auth/getuserinfo", access_token=wecom.token(APP_SECRET), code=code)["errcode"] == 40029


def _sns(sim, **params):
    return sim.control._http.get(f"{sim.base_url}/sns/oauth2/access_token", params=params, timeout=10).json()


def test_official_account_exchange(sim):
    code = sim.control.mint_oauth_code(appid=OA_APPID, userid="sunqi")
    ok = _sns(sim, appid=OA_APPID, secret=OA_SECRET, code=code, grant_type="authorization_code")
    assert "errcode" not in ok  # WeChat's success body has none
    assert ok["unionid"] == "oz4Dq5demoUnionSunqi0000000X" and ok["openid"] and ok["scope"] == "snsapi_userinfo"
    again = _sns(sim, appid=OA_APPID, secret=OA_SECRET, code=code, grant_type="authorization_code")
    assert again["errcode"] == 40163


def test_official_account_scenario_code_and_errors(sim):
    assert _sns(sim, appid=OA_APPID, secret="bad", code="demo-oa-code-0001",
                grant_type="authorization_code")["errcode"] == 40125
    ok = _sns(sim, appid=OA_APPID, secret=OA_SECRET, code="demo-oa-code-0001", grant_type="authorization_code")
    assert ok["openid"] == "oDemoOpenid0001"
    base = sim.control.mint_oauth_code(appid=OA_APPID, openid="oX", scope="snsapi_base", unionid="oz-hidden")
    answer = _sns(sim, appid=OA_APPID, secret=OA_SECRET, code=base, grant_type="authorization_code")
    assert answer["openid"] == "oX" and "unionid" not in answer
    assert _sns(sim, appid="wxnope", secret=OA_SECRET, code=base, grant_type="authorization_code")["errcode"] == 40013


def test_duplicate_check_delivers_the_same_request_once(sim, wecom):
    token = wecom.token(APP_SECRET)
    body = {**_text("lisi", "请审批"), "enable_duplicate_check": 1, "duplicate_check_interval": 600}
    assert wecom.post("message/send", body, access_token=token)["errcode"] == 0
    assert wecom.post("message/send", body, access_token=token)["errcode"] == 0
    wecom.post("message/send", {**body, "text": {"content": "另一条"}}, access_token=token)
    wecom.post("message/send", _text("lisi", "请审批"), access_token=token)  # check not enabled: always delivered
    assert [(m["duplicate"], m["delivered"]) for m in sim.control.messages(touser="lisi")] == [
        (False, ["lisi"]), (True, []), (False, ["lisi"]), (False, ["lisi"])]
    sim.control.advance_clock(601)
    wecom.post("message/send", body, access_token=token)
    assert sim.control.messages(touser="lisi")[-1]["delivered"] == ["lisi"]
