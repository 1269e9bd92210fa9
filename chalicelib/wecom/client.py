"""The WeCom APIs Yunqiao calls, for one corp, plus the third-party suite's credential APIs.

Each API goes out with the token of the secret allowed to call it (WeCom answers 48002 otherwise): the contacts
secret for `user/*`, the customer-contact secret for `externalcontact/*`, the app's secret for `message/send`,
`auth/getuserinfo` and `corpgroup/*`. A corp authorised through the suite has one corp token that serves all three.
Every call takes a permit from the rate limiter (when one is given), retries transient failures (`http.Transport`)
and refreshes a rejected token once (`tokens.call_with_token`). Paginated APIs are iterators that follow every cursor.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterable, Iterator

from chalicelib.wecom.errors import NO_CUSTOMERS, WeComApiError
from chalicelib.wecom.http import Transport
from chalicelib.wecom.ratelimit import RateLimiter
from chalicelib.wecom.tokens import (
    TokenCache,
    TokenSource,
    call_with_token,
    suite_corp_token_source,
    suite_token_source,
)

MEMBER_PAGE = 10000  # user/list_id's maximum
BATCH_USERS = 100  # externalcontact/batch/get_by_user: at most 100 userids per request ...
BATCH_PAGE = 100  # ... and 100 results per page
CHAIN_PAGE = 1000
SHARE_PAGE = 100  # corpgroup/corp/list_app_share_info: at most 100 corps a page
CHAIN_BUSINESS = 1  # business_type of the corpgroup APIs for 上下游 (0 is 企业互联)
MESSAGE_RECIPIENTS = 1000  # message/send: at most 1000 members per touser
DUPLICATE_CHECK_SECONDS = 1800
DUPLICATE_CHECK_MAX = 4 * 3600  # WeCom's upper bound for duplicate_check_interval


class WeComClient:
    """One corp's APIs. Holds no per-call state: one instance serves every thread of the process."""

    def __init__(
        self,
        corpid: str,
        *,
        contacts: TokenSource,
        customers: TokenSource,
        app: TokenSource,
        agentid: int | None = None,
        transport: Transport,
        limiter: RateLimiter | None = None,
        wait_for_permits: bool = True,
    ) -> None:
        self.corpid = corpid
        self.agentid = agentid
        self._contacts = contacts
        self._customers = customers
        self._app = app
        self._transport = transport
        self._limiter = limiter
        self._wait = wait_for_permits

    # --- members ------------------------------------------------------------------------------------------------
    def list_member_ids(self, page_size: int = MEMBER_PAGE) -> Iterator[str]:
        """Every member's userid, once (user/list_id lists a member once per department)."""
        seen: set[str] = set()
        for entry in self._pages(self._contacts, "user/list_id", {"limit": page_size}, "dept_user"):
            if entry["userid"] not in seen:
                seen.add(entry["userid"])
                yield entry["userid"]

    def get_member(self, userid: str) -> dict:
        return self._call(self._contacts, "GET", "user/get", params={"userid": userid})

    def userid_by_mobile(self, mobile: str) -> str:
        """The member with this mobile (user/getuserid); WeComApiError 46004 when there is none."""
        return self._call(self._contacts, "POST", "user/getuserid", body={"mobile": mobile})["userid"]

    def userid_by_email(self, email: str, email_type: int = 1) -> str:
        """The member with this email (user/get_userid_by_email): type 1 the corp mailbox, 2 the member's own
        address; WeComApiError 46004 when there is none."""
        body = {"email": email, "email_type": email_type}
        return self._call(self._contacts, "POST", "user/get_userid_by_email", body=body)["userid"]

    def update_member(self, userid: str, fields: dict[str, Any]) -> None:
        """Write the given fields; `external_profile.external_attr` replaces the whole list, so read it first."""
        self._call(self._contacts, "POST", "user/update", body={**fields, "userid": userid})

    # --- customers ----------------------------------------------------------------------------------------------
    def follow_users(self) -> list[str]:
        """The members with the customer-contact feature (the only ones who can have customers)."""
        return self._call(self._customers, "GET", "externalcontact/get_follow_user_list").get("follow_user", [])

    def list_customers(self, userid: str) -> list[str]:
        """The external_userids of a member's customers; none is not an error (WeCom says 84061)."""
        try:
            answer = self._call(self._customers, "GET", "externalcontact/list", params={"userid": userid})
        except WeComApiError as err:
            if err.errcode == NO_CUSTOMERS:
                return []
            raise
        return answer.get("external_userid", [])

    def get_customer(self, external_userid: str) -> dict:
        """`{"external_contact": ..., "follow_user": [...]}` with the follow users of every page."""
        params = {"external_userid": external_userid}
        answer = self._call(self._customers, "GET", "externalcontact/get", params=params)
        follow_users = list(answer.get("follow_user", []))
        cursor = answer.get("next_cursor")
        while cursor:
            page = self._call(self._customers, "GET", "externalcontact/get", params={**params, "cursor": cursor})
            follow_users.extend(page.get("follow_user", []))
            cursor = page.get("next_cursor")
        return {"external_contact": answer["external_contact"], "follow_user": follow_users}

    def customers_by_users(self, userids: Iterable[str], page_size: int = BATCH_PAGE) -> Iterator[dict]:
        """`{"external_contact", "follow_info"}` for every (customer, member) pair of the given members.

        A customer added by two of the members comes once per member, each time with that member's follow_info.
        """
        unique = list(dict.fromkeys(userids))
        for start in range(0, len(unique), BATCH_USERS):
            body = {"userid_list": unique[start : start + BATCH_USERS], "limit": page_size}
            yield from self._pages(self._customers, "externalcontact/batch/get_by_user", body, "external_contact_list")

    def group_chat(self, chat_id: str) -> dict:
        """A customer group (`externalcontact/groupchat/get`, names included): `{chat_id, name, owner, member_list[{userid,
        type (1 a member, 2 an external contact), name?, ...}], admin_list}`."""
        body = {"chat_id": chat_id, "need_name": 1}
        return self._call(self._customers, "POST", "externalcontact/groupchat/get", body=body)["group_chat"]

    # --- upstream / downstream (上下游) -------------------------------------------------------------------------
    def chains(self) -> list[dict]:
        return self._call(self._app, "POST", "corpgroup/corp/get_chain_list", body={}).get("chains", [])

    def chain_groups(self, chain_id: str) -> list[dict]:
        answer = self._call(self._app, "POST", "corpgroup/corp/get_chain_group", body={"chain_id": chain_id})
        return answer.get("groups", [])

    def chain_corps(self, chain_id: str, need_pending: bool = True) -> Iterator[dict]:
        """Every corp of the chain, in every group; with `need_pending`, also the invited ones not yet joined
        (those carry `pending_corpid` and an empty `corpid`)."""
        body = {"chain_id": chain_id, "need_pending": need_pending, "limit": CHAIN_PAGE}
        yield from self._pages(self._app, "corpgroup/corp/get_chain_corpinfo_list", body, "group_corps")

    def shared_corps(self, agentid: int | None = None, page_size: int = SHARE_PAGE) -> Iterator[dict]:
        """`{corpid, corp_name, agentid}` of every downstream corp that accepted the app shared along the chains
        (`agentid` in the answer is the app's id in that corp). Pages end on `ending` or an empty cursor."""
        agent = agentid if agentid is not None else self.agentid
        if agent is None:
            raise ValueError("no agentid: the tenant has no app shared with downstream corps")
        cursor = ""
        while True:
            body = {"agentid": int(agent), "business_type": CHAIN_BUSINESS, "limit": page_size, "cursor": cursor}
            answer = self._call(self._app, "POST", "corpgroup/corp/list_app_share_info", body=body)
            yield from answer.get("corp_list", [])
            cursor = answer.get("next_cursor") or ""
            if not cursor or answer.get("ending"):
                return

    # --- messages and OAuth -------------------------------------------------------------------------------------
    def send_message(
        self,
        touser: Iterable[str],
        agentid: int | None = None,
        *,
        text: str | None = None,
        textcard: dict[str, str] | None = None,
        duplicate_check_seconds: int = DUPLICATE_CHECK_SECONDS,
    ) -> dict:
        """Send a text or a text card (`{title, description, url, btntxt?}`) to members through the app.

        WeCom's duplicate check is on: a send retried after a timeout — WeCom may have delivered the first one —
        is recognised as the same message and not delivered again. The flip side: an identical message to the
        same members within `duplicate_check_seconds` is not delivered either.
        Returns the members WeCom refused (`invaliduser`, `unlicenseduser`) and the msgids.
        """
        if (text is None) == (textcard is None):
            raise ValueError("give exactly one of text or textcard")
        if not 0 < duplicate_check_seconds <= DUPLICATE_CHECK_MAX:
            raise ValueError(f"duplicate_check_seconds must be 1..{DUPLICATE_CHECK_MAX}")
        agent = agentid if agentid is not None else self.agentid
        if agent is None:
            raise ValueError("no agentid: the tenant has no app to send from")
        content: dict[str, Any]
        if text is not None:
            content = {"msgtype": "text", "text": {"content": text}}
        else:
            content = {"msgtype": "textcard", "textcard": textcard}
        recipients = list(dict.fromkeys(touser))
        result: dict[str, list[str]] = {"invaliduser": [], "unlicenseduser": [], "msgids": []}
        for start in range(0, len(recipients), MESSAGE_RECIPIENTS):
            body = {
                "touser": "|".join(recipients[start : start + MESSAGE_RECIPIENTS]),
                "agentid": int(agent),
                **content,
                "enable_duplicate_check": 1,
                "duplicate_check_interval": duplicate_check_seconds,
            }
            answer = self._call(self._app, "POST", "message/send", body=body)
            for key in ("invaliduser", "unlicenseduser"):
                result[key].extend(u for u in str(answer.get(key) or "").split("|") if u)
            result["msgids"].append(answer.get("msgid", ""))
        return result

    def oauth_user(self, code: str) -> dict:
        """Who opened our page through WeCom OAuth: `userid` for a member, `openid` + `external_userid` otherwise."""
        return self._call(self._app, "GET", "auth/getuserinfo", params={"code": code})

    # --- plumbing -----------------------------------------------------------------------------------------------
    def _call(
        self,
        source: TokenSource,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict:
        before = None
        if self._limiter is not None:
            before = partial(self._limiter.acquire, self.corpid, path, wait=self._wait)
        return call_with_token(
            source,
            lambda token: self._transport.cgi(
                method, path, params={**(params or {}), "access_token": token}, body=body, before_attempt=before
            ),
        )

    def _pages(self, source: TokenSource, path: str, body: dict[str, Any], items: str) -> Iterator[dict]:
        cursor = ""
        while True:
            answer = self._call(source, "POST", path, body={**body, "cursor": cursor})
            yield from answer.get(items, [])
            cursor = answer.get("next_cursor") or ""
            if not cursor or answer.get("has_more") is False:
                return


class SuiteClient:
    """The third-party suite's own APIs: its token, turning an auth code into a permanent code, corp tokens."""

    def __init__(
        self,
        suite_id: str,
        suite_secret: str,
        *,
        ticket: Callable[[], str | None],
        cache: TokenCache,
        transport: Transport,
        **token_options: Any,
    ) -> None:
        self.suite_id = suite_id
        self._cache = cache
        self._transport = transport
        self._token_options = token_options
        self.tokens = suite_token_source(suite_id, suite_secret, ticket, cache, self._transport, **token_options)

    def suite_token(self) -> str:
        return self.tokens.token()

    def permanent_code(self, auth_code: str) -> dict:
        """Exchange a create_auth's auth code (single use, 10 minutes) for the corp's permanent code.

        The answer carries `permanent_code`, `auth_corp_info{corpid, corp_name, ...}`, `auth_info{agent[...]}`,
        `auth_user_info` and `state`; the permanent code is a secret to store, never to log.
        """
        return call_with_token(
            self.tokens,
            lambda token: self._transport.cgi(
                "POST",
                "service/v2/get_permanent_code",
                params={"suite_access_token": token},
                body={"auth_code": auth_code},
            ),
        )

    def auth_info(self, auth_corpid: str, permanent_code: str) -> dict:
        """An authorising corp's current `auth_corp_info` and `auth_info` (what change_auth asks us to re-read)."""
        return call_with_token(
            self.tokens,
            lambda token: self._transport.cgi(
                "POST",
                "service/get_auth_info",
                params={"suite_access_token": token},
                body={"auth_corpid": auth_corpid, "permanent_code": permanent_code},
            ),
        )

    def corp_token_source(self, auth_corpid: str, permanent_code: str) -> TokenSource:
        """The token source for a corp that authorised the suite; give it as every purpose of a `WeComClient`."""
        return suite_corp_token_source(
            self.tokens, auth_corpid, permanent_code, self._cache, self._transport, **self._token_options
        )


def official_account_oauth(appid: str, secret: str, code: str, transport: Transport) -> dict:
    """Exchange an official-account OAuth code (a visitor in the WeChat client) for `openid` (+ `unionid` with
    scope snsapi_userinfo), through a transport rooted at WeChat's API. WeChat's success answer has no errcode at
    all; its errors do."""
    return transport.request(
        "GET",
        f"{transport.base_url}/sns/oauth2/access_token",
        path="sns/oauth2/access_token",
        params={"appid": appid, "secret": secret, "code": code, "grant_type": "authorization_code"},
    )
