"""A WeChat official account (公众号) on api.weixin.qq.com: its own access token, who follows it, template messages.

A tenant may connect its official account so that external contacts in the WeChat client are recognised (OAuth,
`official_account_oauth` in `client.py`) and told about shared items (template messages). The account's
access_token comes from `cgi-bin/token` (appid + secret) and is cached exactly like a corp's token
(`tokens.TokenSource`: one shared copy per credential, refreshed by one instance under a lease), because WeChat
also invalidates older tokens when a new one is fetched. Calls go through the same `Transport` (timeouts, bounded
retries of busy/limit answers); WeChat's errors carry the same errcode scheme, so `WeComApiError` describes them.
"""
from __future__ import annotations

from typing import Any

from chalicelib.wecom.http import Transport
from chalicelib.wecom.tokens import TokenCache, TokenSource, call_with_token, credential_key

FOLLOWERS_PAGE_MAX = 10000  # user/get's page
BATCHGET_MAX = 100  # user/info/batchget's openids per call

class OfficialAccountClient:
    """One official account's APIs. Holds no per-call state: one instance serves every thread of the process."""

    def __init__(self, appid: str, secret: str, *, cache: TokenCache, transport: Transport,
                 **token_options: Any) -> None:
        """`transport` is rooted at WeChat's API (api.weixin.qq.com, or the simulator)."""
        self.appid = appid
        self._transport = transport

        def fetch() -> tuple[str, int]:
            answer = self._transport.cgi("GET", "token", params={"grant_type": "client_credential", "appid": appid,
                                                                 "secret": secret})
            return answer["access_token"], int(answer["expires_in"])

        self.tokens = TokenSource(credential_key(appid, "official_account", appid, secret), fetch, cache,
                                  **token_options)

    def user_info(self, openid: str) -> dict:
        """`subscribe` (1 follows, 0 does not), `openid`, `unionid` when the account is bound to an open platform."""
        return self._call("GET", "user/info", params={"openid": openid, "lang": "zh_CN"})

    def follows(self, openid: str) -> bool:
        return int(self.user_info(openid).get("subscribe") or 0) == 1

    def followers_page(self, next_openid: str = "") -> tuple[list[str], str]:
        """One page of `user/get` (up to 10000 openids, in the account's order) and the `next_openid` to continue
        from — empty once the list is done. WeChat answers the last openid of a full page as next_openid and an
        empty list after the end, so an empty page ends the walk."""
        params = {"next_openid": next_openid} if next_openid else {}
        answer = self._call("GET", "user/get", params=params)
        openids = list((answer.get("data") or {}).get("openid") or [])
        return openids, (answer.get("next_openid") or "") if openids else ""

    def users_info(self, openids: list[str]) -> list[dict]:
        """`user/info/batchget` for up to 100 openids: each user's `subscribe`, `openid` and `unionid`."""
        if not 0 < len(openids) <= BATCHGET_MAX:
            raise ValueError(f"user/info/batchget takes 1..{BATCHGET_MAX} openids")
        body = {"user_list": [{"openid": openid, "lang": "zh_CN"} for openid in openids]}
        return list(self._call("POST", "user/info/batchget", body=body).get("user_info_list") or [])

    def send_template(self, touser: str, template_id: str, data: dict[str, dict], *, url: str | None = None,
                      client_msg_id: str | None = None) -> int:
        """Send a template message; returns its msgid. `client_msg_id` lets WeChat drop a resend of the same
        message (a redelivered queue message), as message/send's duplicate check does for WeCom."""
        body: dict[str, Any] = {"touser": touser, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id[:64]
        return int(self._call("POST", "message/template/send", body=body).get("msgid") or 0)

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              body: dict[str, Any] | None = None) -> dict:
        return call_with_token(
            self.tokens,
            lambda token: self._transport.cgi(method, path, params={**(params or {}), "access_token": token},
                                              body=body),
        )
