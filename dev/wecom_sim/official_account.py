"""The official account's follower APIs and its own callbacks (api.weixin.qq.com, 服务器配置 in 安全模式).

- `GET /cgi-bin/user/get?access_token&next_openid`: the followers' openids, `followers_page` (default 10000, WeChat's
  page) at a time, in the order they followed; `next_openid` is the last openid of the page, and a call after the end
  answers `count: 0` and no `data`, as WeChat does. An unknown next_openid → 40003.
- `POST /cgi-bin/user/info/batchget` `{user_list: [{openid, lang}]}`: 1..100 openids (else 40032 / 47001); one
  openid the account never met → 40003 for the whole call. Each follower as `user/info` describes them.
`user/get` is also a WeCom path (qyapi's member read): a call carrying an official account's token is this one.

Callbacks (`POST /__sim__/oa/push`, `POST /__sim__/oa/verify`): a follow, unfollow or scan is applied to the account's
state first (so user/info and template sends agree with what was pushed), then POSTed to the target as WeChat does
in security mode — query `signature, timestamp, nonce, openid, encrypt_type=aes, msg_signature`, body
`<xml><ToUserName/><Encrypt/></xml>` — encrypted by wechatpy's official-account crypto (an independent peer, the
receiver being the account's appid). The URL check is WeChat's: GET `signature, timestamp, nonce, echostr`, the plain
echostr expected back.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from .api import Call, Route, _oa_account, _oa_user, oa_user_info
from .callbacks import DELIVERY_TIMEOUT, _xml, post_envelope
from .errors import WeComError
from .state import oa_user

if TYPE_CHECKING:
    from .server import Simulator

FOLLOWERS_PAGE = 10000
BATCHGET_MAX = 100
FOLLOW_KINDS = ("subscribe", "unsubscribe", "SCAN")


def user_get(sim: "Simulator", call: Call) -> dict:
    account = _oa_account(sim, call)
    following = [openid for openid, user in sim.state.oa_users.get(account["appid"], {}).items() if user["subscribe"]]
    start = 0
    after = call.query.get("next_openid") or ""
    if after:
        if after not in following:
            raise WeComError(40003)
        start = following.index(after) + 1
    page = following[start:start + int(account.get("followers_page", FOLLOWERS_PAGE))]
    answer: dict[str, Any] = {"total": len(following), "count": len(page), "next_openid": page[-1] if page else ""}
    if page:
        answer["data"] = {"openid": page}
    return answer


def user_info_batchget(sim: "Simulator", call: Call) -> dict:
    account = _oa_account(sim, call)
    body = call.json()
    wanted = body.get("user_list")
    if not isinstance(wanted, list) or not wanted or not all(isinstance(u, dict) and u.get("openid") for u in wanted):
        raise WeComError(47001)
    if len(wanted) > BATCHGET_MAX:
        raise WeComError(40032)
    answers = []
    for entry in wanted:
        if _oa_user(sim, account["appid"], str(entry["openid"])) is None:
            raise WeComError(40003)
        single = Call(method="GET", path=call.path, api=call.api, query={**call.query, "openid": entry["openid"]},
                      body=None, client_ip=call.client_ip)
        answers.append(oa_user_info(sim, single))
    return {"user_info_list": answers}


# Official-account calls on a path WeCom also serves: taken by the account's token (see `route_for`).
ROUTES: dict[str, Route] = {
    "/cgi-bin/user/get": Route(user_get, "none"),
    "/cgi-bin/user/info/batchget": Route(user_info_batchget, "none"),
}


def route_for(sim: "Simulator", path: str, query: dict[str, str]) -> Route | None:
    """The official-account route of this call, when its path is one and it carries an account's token (or the
    path is only WeChat's)."""
    route = ROUTES.get(path)
    if route is None:
        return None
    if path == "/cgi-bin/user/get":
        token = sim.tokens.lookup(query.get("access_token") or "")
        if token is None or token.kind != "oa":
            return None
    return route


# --- the account's callbacks -------------------------------------------------------------------------------------
def _account(sim: "Simulator", appid: str | None) -> dict:
    accounts = sim.state.official_accounts
    account = accounts.get(appid or next(iter(accounts), ""))
    if account is None:
        raise KeyError(f"unknown official account {appid!r}")
    if not account.get("callback"):
        raise ValueError(f"official account {account['appid']} has no callback config")
    return account


def _apply(sim: "Simulator", account: dict, kind: str, openid: str, unionid: str | None) -> None:
    """What the push means for the account's state: a follow or scan makes a follower, an unfollow ends it."""
    users = sim.state.oa_users.setdefault(account["appid"], {})
    known = users.get(openid) or {}
    unionid = unionid or known.get("unionid")
    users[openid] = oa_user({"openid": openid, "unionid": unionid, "subscribe": kind != "unsubscribe"}, sim.now())


def push(sim: "Simulator", query: dict, body: dict) -> dict:
    kind = body["kind"]
    if kind not in FOLLOW_KINDS:
        raise ValueError(f"unknown official-account event {kind!r}: use {', '.join(FOLLOW_KINDS)}")
    with sim.lock:
        account = _account(sim, body.get("appid"))
        openid = body["openid"]
        now = int(body.get("create_time") or sim.now())
        _apply(sim, account, kind, openid, body.get("unionid"))
        scene = body.get("scene")
        event_key = (f"qrscene_{scene}" if kind == "subscribe" else str(scene)) if scene else None
        plaintext = _xml([("ToUserName", account.get("original_id", "gh_" + account["appid"][2:14])),
                          ("FromUserName", openid), ("CreateTime", now), ("MsgType", "event"), ("Event", kind),
                          ("EventKey", event_key if event_key else ("" if kind != "unsubscribe" else None)),
                          ("Ticket", body.get("ticket") if scene else None)])
        timestamp = str(body.get("timestamp") or int(sim.now()))
    return deliver(account, plaintext, openid, body["target_url"], timestamp, body.get("nonce"))


def deliver(account: dict, plaintext: str, openid: str, target_url: str, timestamp: str,
            nonce: str | None = None) -> dict:
    nonce = nonce or str(secrets.randbelow(10**10))
    callback = account["callback"]
    crypto = WeChatCrypto(callback["token"], callback["encoding_aes_key"], account["appid"])
    packed = ET.fromstring(crypto.encrypt_message(plaintext, nonce, timestamp))
    encrypt, msg_signature = packed.findtext("Encrypt"), packed.findtext("MsgSignature")
    to_user = account.get("original_id", "")
    envelope = f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    query = {"signature": _plain_signature(callback["token"], timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, "openid": openid, "encrypt_type": "aes", "msg_signature": msg_signature}
    url = f"{target_url}{'&' if '?' in target_url else '?'}{urlencode(query)}"
    return post_envelope(url, envelope, {"url": url, "plaintext": plaintext, "envelope": envelope})


def _plain_signature(token: str, timestamp: str, nonce: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature


def verify(sim: "Simulator", query: dict, body: dict) -> dict:
    """WeChat's check when the account's 服务器配置 is saved: GET with a plain signature; the echostr must come back."""
    with sim.lock:
        account = _account(sim, body.get("appid"))
        timestamp = str(body.get("timestamp") or int(sim.now()))
    nonce = body.get("nonce") or str(secrets.randbelow(10**10))
    echostr = str(secrets.randbelow(10**19))
    params = {"signature": _plain_signature(account["callback"]["token"], timestamp, nonce), "timestamp": timestamp,
              "nonce": nonce, "echostr": echostr}
    target = body["target_url"]
    url = f"{target}{'&' if '?' in target else '?'}{urlencode(params)}"
    result: dict[str, Any] = {"url": url, "echostr": echostr}
    try:
        resp = requests.get(url, timeout=DELIVERY_TIMEOUT)
        result.update(status=resp.status_code, body=resp.text, ok=resp.status_code == 200 and resp.text == echostr)
    except requests.RequestException as exc:
        result.update(status=None, body=None, ok=False, error=str(exc))
    return result


CONTROL_ROUTES = {
    ("POST", "oa/push"): push,
    ("POST", "oa/verify"): verify,
}
