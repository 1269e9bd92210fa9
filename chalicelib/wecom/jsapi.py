"""WeCom's JS-SDK on a page of ours: the two tickets `ww.register` needs and the signatures made from them.

`register` asks the page for two signatures of its own URL: the config signature with the corp's jsapi_ticket
(`get_jsapi_ticket`), which lets the page use the client's plain APIs, and the agent signature with the app's ticket
(`ticket/get?type=agent_config`), which gives it the app's identity (getContext, getCurExternalContact,
sendChatMessage...). WeCom limits how often a ticket may be fetched (about 400 times an hour per corp or app) and a
fetched ticket is valid 7200 s, so tickets are shared and refreshed exactly like access tokens: a `TokenSource` over
the same cache, one refresher per expiry among every instance.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable
from urllib.parse import urldefrag

from chalicelib.wecom.http import Transport
from chalicelib.wecom.tokens import TokenCache, TokenSource, call_with_token, credential_key

CORP_TICKET = "get_jsapi_ticket"
AGENT_TICKET = "ticket/get"


def signed_url(url: str) -> str:
    """The URL as WeCom signs it: everything before `#`."""
    return urldefrag(url)[0]


def signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """WeCom's JS-SDK signature: SHA-1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` (keys in this order, values
    as they are, the URL without its fragment), as lowercase hex. The same rule for the config and agent signatures,
    each with its own ticket."""
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={signed_url(url)}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def _ticket_source(key: str, path: str, params: dict[str, str], app: TokenSource, cache: TokenCache,
                   transport: Transport, before: Callable[[], Any] | None, **options: Any) -> TokenSource:
    def fetch() -> tuple[str, int]:
        answer = call_with_token(
            app,
            lambda token: transport.cgi("GET", path, params={**params, "access_token": token}, before_attempt=before),
        )
        return answer["ticket"], int(answer["expires_in"])

    return TokenSource(key, fetch, cache, **options)


class JsApiTickets:
    """One app's two tickets, fetched with the app's access token (`app`: the app secret's source for a self-built
    app, the corp token through the suite for a suite app). The cache keys derive from the app token's key, so they
    change with the credential and never carry it."""

    def __init__(self, corpid: str, app: TokenSource, *, cache: TokenCache, transport: Transport,
                 before: Callable[[str], Any] | None = None, **options: Any) -> None:
        self.corpid = corpid

        def limit(path: str) -> Callable[[], Any] | None:
            return (lambda: before(path)) if before is not None else None

        self.corp = _ticket_source(credential_key(corpid, "jsapi", app.key), CORP_TICKET, {}, app, cache,
                                   transport, limit(CORP_TICKET), **options)
        self.agent = _ticket_source(credential_key(corpid, "agent_config", app.key), AGENT_TICKET,
                                    {"type": "agent_config"}, app, cache, transport, limit(AGENT_TICKET), **options)

    def corp_ticket(self) -> str:
        return self.corp.token()

    def agent_ticket(self) -> str:
        return self.agent.token()
