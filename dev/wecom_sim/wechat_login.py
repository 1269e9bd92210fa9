"""WeChat's OAuth page for an official account, played for a browser.

`GET /connect/oauth2/authorize?appid=<official account>&redirect_uri&response_type=code&scope=snsapi_userinfo&state`
is the page open.weixin.qq.com shows inside the WeChat client, which knows who is signed in and (after the user agrees
to snsapi_userinfo) redirects at once. The simulator has no client, so it asks which WeChat user is visiting: one the
account knows (named after the corp customer carrying the same unionid), or a new WeChat user, who gets a fresh openid
and unionid and is known to the account from then on (so they can come back as themselves). Choosing goes through
`GET /connect/oauth2/wechat-confirm`, the simulator's own step: it mints a code exactly as `POST /__sim__/oauth/code`
with an appid does (single use, 5 minutes, answered by `sns/oauth2/access_token`) and redirects (302) to
`redirect_uri` with `code` and `state` added, as WeChat does. Bad parameters get an error page (HTTP 400).
"""
from __future__ import annotations

import html
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .state import oa_user

if TYPE_CHECKING:
    from .server import Simulator

CONFIRM_PATH = "/connect/oauth2/wechat-confirm"
CARRIED = ("appid", "redirect_uri", "state", "scope", "response_type")
NEW_USER = "new"


class WeChatLoginError(Exception):
    """A request WeChat's page would refuse."""


def is_official_account(sim: "Simulator", query: dict[str, str]) -> bool:
    return query.get("appid", "") in sim.state.official_accounts


def _checked(sim: "Simulator", query: dict[str, str]) -> dict:
    account = sim.state.official_accounts.get(query.get("appid", ""))
    if account is None:
        raise WeChatLoginError("appid 无效：没有这个公众号")
    if query.get("response_type") != "code":
        raise WeChatLoginError("response_type 必须为 code")
    if query.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
        raise WeChatLoginError("scope 参数错误")
    target = urlsplit(query.get("redirect_uri", ""))
    if target.scheme not in ("http", "https") or not target.netloc:
        raise WeChatLoginError("redirect_uri 参数错误：需要完整的 http(s) 地址")
    return account


def _names(sim: "Simulator") -> dict[str, str]:
    """unionid → the name of the corp customer carrying it."""
    return {customer["unionid"]: customer.get("name") or ""
            for corp in sim.state.corps.values() for customer in corp.customers.values() if customer.get("unionid")}


def chooser(sim: "Simulator", query: dict[str, str], page) -> tuple[int, dict, bytes]:
    """The authorize page: pick the visiting WeChat user."""
    account = _checked(sim, query)
    carried = {key: query[key] for key in CARRIED if key in query}
    names = _names(sim)
    users = sim.state.oa_users.setdefault(account["appid"], {})
    links = "".join(
        f'<li><a href="{CONFIRM_PATH}?{html.escape(urlencode({**carried, "openid": openid}))}" '
        f'data-openid="{html.escape(openid)}">{html.escape(names.get(user.get("unionid", ""), "") or "微信用户")} '
        f"<small>{html.escape(openid)}</small></a></li>"
        for openid, user in users.items()
    )
    new = (f'<li><a href="{CONFIRM_PATH}?{html.escape(urlencode({**carried, "openid": NEW_USER}))}" '
           f'data-openid="{NEW_USER}">新的微信用户 <small>第一次来访</small></a></li>')
    body = ("<h1>微信授权</h1><p>公众号申请获取您的昵称、头像（snsapi_userinfo）</p>"
            f"<p>（模拟器）选择正在使用微信的用户：</p><ul id=\"wechat-users\">{links}{new}</ul>")
    return page("微信授权", body)


def confirm(sim: "Simulator", query: dict[str, str]) -> tuple[int, dict, bytes]:
    """The chosen user agreed: a code for them, and back to redirect_uri."""
    account = _checked(sim, query)
    users = sim.state.oa_users.setdefault(account["appid"], {})
    openid = query.get("openid", "")
    if openid == NEW_USER:
        openid = "o" + secrets.token_urlsafe(20)
        users[openid] = oa_user({"openid": openid, "unionid": "oz4Dq5" + secrets.token_hex(11), "subscribe": 0},
                                sim.now())
    user = users.get(openid)
    if user is None:
        raise WeChatLoginError("没有这个微信用户")
    code = secrets.token_urlsafe(24)
    sim.state.oauth_codes[code] = {"kind": "oa", "appid": account["appid"], "openid": openid,
                                   "unionid": user.get("unionid"), "scope": query.get("scope", "snsapi_userinfo"),
                                   "used": False, "expires_at": sim.now() + sim.state.settings.oauth_code_ttl}
    target = urlsplit(query["redirect_uri"])
    params = parse_qsl(target.query, keep_blank_values=True) + [("code", code), ("state", query.get("state", ""))]
    location = urlunsplit((target.scheme, target.netloc, target.path, urlencode(params), target.fragment))
    return 302, {"Location": location, "Content-Type": "text/plain; charset=utf-8"}, b""
