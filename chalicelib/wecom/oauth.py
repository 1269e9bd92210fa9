"""Where a browser is sent to sign in with OAuth: open.weixin.qq.com's authorize page, shared by the WeCom corp OAuth
(scope snsapi_base, with the app's agentid) and an official account's (snsapi_userinfo, for the unionid). The page
comes back to `redirect_uri` with `code` and `state`; the code is exchanged by `WeComClient.oauth_user` or
`official_account_oauth`."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

AUTHORIZE = "https://open.weixin.qq.com/connect/oauth2/authorize"
QR_LOGIN = "https://login.work.weixin.qq.com/wwlogin/sso/login"


def _page(url: str, page_base: str | None) -> str:
    """WeCom's page, or the same path on a stand-in (`page_base`: the simulator, locally and in tests)."""
    return f"{page_base.rstrip('/')}{urlsplit(url).path}" if page_base else url


def authorize_url(appid: str, redirect_uri: str, *, scope: str, state: str, agentid: str | None = None,
                  page_base: str | None = None) -> str:
    """The authorize page's URL (WeChat requires the `#wechat_redirect` fragment)."""
    params = {"appid": appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state}
    if agentid is not None:
        params["agentid"] = agentid
    return f"{_page(AUTHORIZE, page_base)}?{urlencode(params)}#wechat_redirect"


def qr_login_url(appid: str, agentid: str, redirect_uri: str, *, state: str, page_base: str | None = None) -> str:
    """WeCom's web login by QR code (扫码登录, login_type CorpApp) for a desktop browser; its code is exchanged like an
    OAuth code (auth/getuserinfo)."""
    params = {"login_type": "CorpApp", "appid": appid, "agentid": agentid, "redirect_uri": redirect_uri,
              "state": state, "lang": "zh"}
    return f"{_page(QR_LOGIN, page_base)}?{urlencode(params)}"
