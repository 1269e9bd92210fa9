"""WeCom's sign-in pages, played for a browser.

- `GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state&agentid` — OAuth inside the WeCom
  client (open.weixin.qq.com). The real client knows who is signed in and redirects silently; the simulator has no
  client, so it asks once per visit which member of the corp is using WeCom.
- `GET /wwlogin/sso/login?login_type=CorpApp&appid&agentid&redirect_uri&state&lang` — the web login by QR code
  (login.work.weixin.qq.com) for a desktop browser. The page shows the QR code's place and, for each member of the
  corp, a link that plays "this member scanned it and confirmed on the phone".
- The same OAuth path with an official account's appid is WeChat's own authorize page (`wechat_login`).

Both end at `GET /wwlogin/sso/confirm?...&userid=`, the simulator's own step: it mints a code exactly as
`POST /__sim__/oauth/code` does (single use, 5 minutes, answered by `auth/getuserinfo`) and redirects (302) to
`redirect_uri` with `code` and `state` added, as WeCom does. Bad parameters get WeCom's kind of error page (HTTP 400),
never a redirect.
"""
from __future__ import annotations

import html
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import wechat_login

if TYPE_CHECKING:
    from .server import Simulator

OAUTH_PATH = "/connect/oauth2/authorize"
QR_PATH = "/wwlogin/sso/login"
CONFIRM_PATH = "/wwlogin/sso/confirm"
PATHS = (OAUTH_PATH, QR_PATH, CONFIRM_PATH, wechat_login.CONFIRM_PATH)
CARRIED = ("appid", "agentid", "redirect_uri", "state", "login_type", "response_type", "scope", "lang")

STYLE = """body{margin:0;background:#f5f6f8;font:15px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif;color:#1f2329}main{max-width:420px;margin:40px auto;background:#fff;border-radius:12px;
padding:28px 24px}h1{font-size:20px;margin:0 0 4px}p{color:#8a919f;margin:0 0 18px;font-size:14px}
.qr{width:168px;height:168px;margin:0 auto 18px;border:8px solid #fff;outline:1px solid #e5e6eb;
background:repeating-conic-gradient(#1f2329 0 25%,#fff 0 50%) 0 0/24px 24px}
ul{list-style:none;margin:0;padding:0}li a{display:block;padding:12px 14px;margin-bottom:8px;border-radius:8px;
background:#f0f5ff;color:#1677ff;text-decoration:none}.err{color:#d4380d}small{color:#8a919f}"""


class LoginError(Exception):
    """A request WeCom's page would refuse (shown as an error page, HTTP 400)."""


def _page(title: str, body: str, status: int = 200) -> tuple[int, dict, bytes]:
    text = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>")
    return status, {"Content-Type": "text/html; charset=utf-8"}, text.encode("utf-8")


def _checked(sim: "Simulator", query: dict[str, str], path: str):
    """The corp the request names, after WeCom's checks of appid, agentid, login_type and redirect_uri."""
    if path == QR_PATH and query.get("login_type") != "CorpApp":
        raise LoginError("login_type 仅支持 CorpApp（企业自建应用登录）")
    if path == OAUTH_PATH and query.get("response_type") != "code":
        raise LoginError("response_type 必须为 code")
    corp = sim.state.corps.get(query.get("appid", ""))
    if corp is None:
        raise LoginError("appid 无效：没有这个企业")
    app = corp.app
    if app is None or str(app.agentid) != query.get("agentid", ""):
        raise LoginError("agentid 无效：不是这个企业的应用")
    target = urlsplit(query.get("redirect_uri", ""))
    if target.scheme not in ("http", "https") or not target.netloc:
        raise LoginError("redirect_uri 无效：需要完整的 http(s) 地址")
    return corp


def _chooser(sim: "Simulator", query: dict[str, str], path: str) -> tuple[int, dict, bytes]:
    corp = _checked(sim, query, path)
    carried = {key: query[key] for key in CARRIED if key in query}
    carried["via"] = "qr" if path == QR_PATH else "oauth"
    links = "".join(
        f'<li><a href="{CONFIRM_PATH}?{html.escape(urlencode({**carried, "userid": userid}))}" '
        f'data-userid="{html.escape(userid)}">{html.escape(corp.members[userid].get("name") or userid)} '
        f"<small>{html.escape(userid)}</small></a></li>"
        for userid in corp.member_ids if userid in corp.members
    )
    if path == QR_PATH:
        head = (f"<h1>企业微信扫码登录</h1><p>{html.escape(corp.corp_name)} · 请使用企业微信扫描二维码</p>"
                '<div class="qr" role="img" aria-label="登录二维码"></div>'
                "<p>（模拟器）选择扫码并在手机上确认登录的成员：</p>")
        title = "企业微信登录"
    else:
        head = (f"<h1>企业微信授权</h1><p>{html.escape(corp.corp_name)}</p>"
                "<p>（模拟器）选择正在使用企业微信的成员：</p>")
        title = "企业微信授权"
    return _page(title, f'{head}<ul id="members">{links}</ul>')


def _confirm(sim: "Simulator", query: dict[str, str]) -> tuple[int, dict, bytes]:
    corp = _checked(sim, query, QR_PATH if query.get("via") == "qr" else OAUTH_PATH)
    userid = query.get("userid", "")
    if userid not in corp.members:
        raise LoginError("没有这个成员")
    code = secrets.token_urlsafe(24)
    sim.state.oauth_codes[code] = {"kind": "wecom", "corpid": corp.corpid, "userid": userid, "used": False,
                                   "expires_at": sim.now() + sim.state.settings.oauth_code_ttl}
    target = urlsplit(query["redirect_uri"])
    params = parse_qsl(target.query, keep_blank_values=True) + [("code", code), ("state", query.get("state", ""))]
    location = urlunsplit((target.scheme, target.netloc, target.path, urlencode(params), target.fragment))
    return 302, {"Location": location, "Content-Type": "text/plain; charset=utf-8"}, b""


def handle_login(sim: "Simulator", path: str, query: dict[str, str]) -> tuple[int, dict, bytes]:
    """Answer one of PATHS: (status, headers, body)."""
    try:
        with sim.lock:
            if path == wechat_login.CONFIRM_PATH:
                return wechat_login.confirm(sim, query)
            if path == OAUTH_PATH and wechat_login.is_official_account(sim, query):
                return wechat_login.chooser(sim, query, _page)
            if path == CONFIRM_PATH:
                return _confirm(sim, query)
            return _chooser(sim, query, path)
    except (LoginError, wechat_login.WeChatLoginError) as err:
        return _page("参数错误", f'<h1 class="err">参数错误</h1><p>{html.escape(str(err))}</p>', status=400)
