"""The official account's own APIs (api.weixin.qq.com/cgi-bin/...): its token, user/info and template messages.

WeChat answers these without an errcode on success (except template/send, which says `errcode 0, errmsg ok`) and
with `{errcode, errmsg ... rid}` on failure; the client keys on errcode only.
"""
from __future__ import annotations

from tests.simulator.support import OA_APPID, OA_SECRET

TEMPLATE = "yqDemoTplCollab0001-shared-item-notice"
FOLLOWER = "oDemoOpenid0001"  # 陈先生 follows the demo account
NOT_FOLLOWING = "oDemoOpenid0009"  # 罗女士 followed it once and stopped


def _get(sim, path: str, **params) -> dict:
    return sim.control._http.get(f"{sim.base_url}/cgi-bin/{path}", params=params, timeout=10).json()


def _post(sim, path: str, body: dict, **params) -> dict:
    return sim.control._http.post(f"{sim.base_url}/cgi-bin/{path}", params=params, json=body, timeout=10).json()


def _token(sim) -> str:
    answer = _get(sim, "token", grant_type="client_credential", appid=OA_APPID, secret=OA_SECRET)
    assert "errcode" not in answer and answer["expires_in"] == 7200, answer
    return answer["access_token"]


def _template(touser: str, template_id: str = TEMPLATE) -> dict:
    return {"touser": touser, "template_id": template_id, "url": "https://yq.test/home",
            "data": {"first": {"value": "新的共享"}, "keyword1": {"value": "项目周报"}, "remark": {"value": "点击查看"}}}


def test_token_checks_grant_type_appid_and_secret(sim):
    assert _get(sim, "token", grant_type="client_credential", appid=OA_APPID, secret="bad")["errcode"] == 40125
    assert _get(sim, "token", grant_type="client_credential", appid="wxnope", secret=OA_SECRET)["errcode"] == 40013
    assert _get(sim, "token", grant_type="authorization_code", appid=OA_APPID, secret=OA_SECRET)["errcode"] == 40002
    assert _token(sim) == _token(sim)  # stable within validity, like the corp tokens


def test_user_info_tells_followers_from_others(sim):
    token = _token(sim)
    follower = _get(sim, "user/info", access_token=token, openid=FOLLOWER, lang="zh_CN")
    assert "errcode" not in follower
    assert follower["subscribe"] == 1 and follower["unionid"] == "oz4Dq5demoUnion000000000001"
    assert follower["subscribe_time"] == 1735690000
    other = _get(sim, "user/info", access_token=token, openid=NOT_FOLLOWING)
    assert other == {"openid": NOT_FOLLOWING, "subscribe": 0, "unionid": "oz4Dq5demoUnion000000000009"}
    customer = _get(sim, "user/info", access_token=token, openid="oDemoOpenid0003")  # a scenario customer
    assert customer["subscribe"] == 0
    assert _get(sim, "user/info", access_token=token, openid="oStranger")["errcode"] == 40003
    assert _get(sim, "user/info", access_token=token)["errcode"] == 41009


def test_the_account_token_is_checked(sim, wecom):
    assert _get(sim, "user/info", openid=FOLLOWER)["errcode"] == 41001
    assert _get(sim, "user/info", access_token="forged", openid=FOLLOWER)["errcode"] == 40001
    corp_token = wecom.token()  # a WeCom token is not the official account's
    assert _get(sim, "user/info", access_token=corp_token, openid=FOLLOWER)["errcode"] == 40001
    token = _token(sim)
    sim.control.advance_clock(7201)
    assert _get(sim, "user/info", access_token=token, openid=FOLLOWER)["errcode"] == 42001


def test_template_send_delivers_to_followers_only(sim):
    token = _token(sim)
    sent = _post(sim, "message/template/send", _template(FOLLOWER), access_token=token)
    assert sent["errcode"] == 0 and sent["errmsg"] == "ok" and isinstance(sent["msgid"], int)
    recorded = sim.control.template_messages(touser=FOLLOWER)
    assert [m["msgid"] for m in recorded] == [sent["msgid"]]
    assert recorded[0]["data"]["keyword1"] == {"value": "项目周报"} and recorded[0]["appid"] == OA_APPID
    refused = _post(sim, "message/template/send", _template(NOT_FOLLOWING), access_token=token)
    assert refused["errcode"] == 43004 and "rid" in refused["errmsg"]
    assert sim.control.template_messages(touser=NOT_FOLLOWING) == []


def test_template_send_errors(sim):
    token = _token(sim)
    assert _post(sim, "message/template/send", _template(FOLLOWER, "nope"), access_token=token)["errcode"] == 40037
    assert _post(sim, "message/template/send", _template("oStranger"), access_token=token)["errcode"] == 40003
    bad_data = {**_template(FOLLOWER), "data": {"first": "not an object"}}
    assert _post(sim, "message/template/send", bad_data, access_token=token)["errcode"] == 47001
    assert sim.control.template_messages() == []


def test_following_and_unfollowing_through_the_control_api(sim):
    token = _token(sim)
    sim.control.set_oa_follower(NOT_FOLLOWING, subscribe=True, unionid="oz4Dq5demoUnion000000000009")
    assert _get(sim, "user/info", access_token=token, openid=NOT_FOLLOWING)["subscribe"] == 1
    assert _post(sim, "message/template/send", _template(NOT_FOLLOWING), access_token=token)["errcode"] == 0
    sim.control.set_oa_follower(FOLLOWER, subscribe=False)
    assert _get(sim, "user/info", access_token=token, openid=FOLLOWER)["subscribe"] == 0
    assert _post(sim, "message/template/send", _template(FOLLOWER), access_token=token)["errcode"] == 43004
    sim.control.reset()
    assert sim.control.template_messages() == []


def test_calls_are_logged_under_the_account(sim):
    token = _token(sim)
    _get(sim, "user/info", access_token=token, openid=FOLLOWER)
    calls = sim.control.calls(path="/cgi-bin/user/info")
    assert len(calls) == 1 and calls[0]["corpid"] == OA_APPID and calls[0]["errcode"] == 0


def test_user_get_pages_the_followers_and_batchget_reads_them(sim, wecom):
    sim.simulator.state.official_accounts[OA_APPID]["followers_page"] = 2
    sim.control.set_oa_follower("oExtra1", subscribe=True, unionid="oz4Dq5extra1")
    token = _token(sim)
    first = _get(sim, "user/get", access_token=token)
    assert "errcode" not in first
    assert (first["total"], first["count"], first["data"]["openid"]) == (3, 2, [FOLLOWER, "oDemoOpenid0002"])
    assert first["next_openid"] == "oDemoOpenid0002"
    second = _get(sim, "user/get", access_token=token, next_openid=first["next_openid"])
    assert (second["count"], second["data"]["openid"], second["next_openid"]) == (1, ["oExtra1"], "oExtra1")
    end = _get(sim, "user/get", access_token=token, next_openid="oExtra1")
    assert (end["count"], end["next_openid"], "data" in end) == (0, "", False)
    assert _get(sim, "user/get", access_token=token, next_openid="oNobody")["errcode"] == 40003
    # The same path with a WeCom token is WeCom's member read.
    assert wecom.get("user/get", access_token=wecom.token(), userid="zhangsan")["userid"] == "zhangsan"

    users = _post(sim, "user/info/batchget", {"user_list": [{"openid": FOLLOWER}, {"openid": NOT_FOLLOWING}]},
                  access_token=token)["user_info_list"]
    assert [(u["openid"], u["subscribe"]) for u in users] == [(FOLLOWER, 1), (NOT_FOLLOWING, 0)]
    assert users[0]["unionid"] == "oz4Dq5demoUnion000000000001"
    too_many = {"user_list": [{"openid": f"o{n}"} for n in range(101)]}
    assert _post(sim, "user/info/batchget", too_many, access_token=token)["errcode"] == 40032
    assert _post(sim, "user/info/batchget", {"user_list": []}, access_token=token)["errcode"] == 47001
    assert _post(sim, "user/info/batchget", {"user_list": [{"openid": "oStranger"}]},
                 access_token=token)["errcode"] == 40003


def test_pushed_follows_change_the_account_and_arrive_encrypted(sim, sink):
    from wechatpy.crypto import WeChatCrypto

    account = sim.simulator.state.official_accounts[OA_APPID]
    answer = sim.control.oa_push("subscribe", "oPushed1", sink.url, unionid="oz4Dq5pushed1", scene="expo")
    assert answer["status"] == 200
    query = sink.last_query()
    assert query["encrypt_type"] == "aes" and query["openid"] == "oPushed1"
    crypto = WeChatCrypto(account["callback"]["token"], account["callback"]["encoding_aes_key"], OA_APPID)
    plain = crypto.decrypt_message(sink.requests[-1]["body"], query["msg_signature"], query["timestamp"],
                                   query["nonce"])
    assert "<Event><![CDATA[subscribe]]></Event>" in plain and "qrscene_expo" in plain
    token = _token(sim)
    assert _get(sim, "user/info", access_token=token, openid="oPushed1")["subscribe"] == 1
    sim.control.oa_push("unsubscribe", "oPushed1", sink.url)
    assert _get(sim, "user/info", access_token=token, openid="oPushed1") == {
        "openid": "oPushed1", "subscribe": 0, "unionid": "oz4Dq5pushed1"}
