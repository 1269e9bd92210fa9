"""Where a browser is sent to sign in with OAuth: open.weixin.qq.com's authorize page, shared by the WeCom corp OAuth
(scope snsapi_base, with the app's agentid) and an official account's (snsapi_userinfo, for the unionid). The page
comes back to `redirect_uri` with `code` and `state`; the code is exchanged by `WeComClient.oauth_user` or
`official_account_oauth`."""
from __future__ import annotations

from urllib.parse import urlencode

AUTHORIZE = "https://open.weixin.qq.com/connect/oauth2/authorize"


def authorize_url(appid: str, redirect_uri: str, *, scope: str, state: str, agentid: str | None = None) -> str:
    """The authorize page's URL (WeChat requires the `#wechat_redirect` fragment)."""
    params = {"appid": appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state}
    if agentid is not None:
        params["agentid"] = agentid
    return f"{AUTHORIZE}?{urlencode(params)}#wechat_redirect"
