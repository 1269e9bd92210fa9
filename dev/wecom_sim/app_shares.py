"""Apps shared along 上下游 chains: `corpgroup/corp/list_app_share_info`, `corpgroup/corp/gettoken` and what a
downstream token may read.

An upstream corp shares one of its apps (by agentid) with downstream corps of its chains; a downstream corp that
accepts it gives the app a visible range among its members. The upstream app then lists those corps
(list_app_share_info, business_type 1 = 上下游), gets a token per corp (corpgroup/corp/gettoken) and, with it, reads
that corp's members within the visible range only: `user/list_id` and `user/get` (read-only; anything else → 48002,
a member outside the range → 60011). A downstream corp's members live on its own `Corp` (so the usual member control
endpoints change them); which of them the app sees is the share's `visible_users` (absent: all of them).

Scenario shape, on the upstream corp:

    "app_shares": [{"corpid": "wwdown0002", "corp_name": "海川物流", "agentid": 1000002,
                    "downstream_agentid": 1000105, "visible_users": ["zhoujingli"],
                    "members": [{"userid": "zhoujingli", "name": "周经理", "position": "销售经理"}]}]

`agentid` is the upstream app that is shared; `downstream_agentid` the id the app has in the downstream corp (what
list_app_share_info answers as `agentid`). Registered with the server's routes by `register`.
"""
from __future__ import annotations

import bisect
import copy
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import cursors
from .api import Call, Route
from .control import NotFound
from .errors import WeComError
from .state import Corp, SimState

if TYPE_CHECKING:
    from .server import Simulator

SHARE_PAGE_MAX = 100  # list_app_share_info's documented maximum
CHAIN_BUSINESS = 1  # business_type 1: 上下游 (0: 企业互联, which the simulator has none of)
DOWNSTREAM_KIND = "corpgroup"
# What a downstream token may call: the read-only contacts APIs the simulator has.
DOWNSTREAM_APIS = ("user/list_id", "user/get")


@dataclass
class Share:
    """One downstream corp's acceptance of an upstream app."""

    corpid: str
    corp_name: str
    agentid: int  # the upstream app shared
    downstream_agentid: int
    visible_users: list[str] | None = None  # None: every member of the downstream corp

    def sees(self, userid: str) -> bool:
        return self.visible_users is None or userid in self.visible_users

    def entry(self) -> dict:
        return {"corpid": self.corpid, "corp_name": self.corp_name, "agentid": self.downstream_agentid}


@dataclass
class ShareBook:
    """Every share of one simulated world: (upstream corpid, agentid) → downstream corpid → share."""

    shares: dict[tuple[str, int], dict[str, Share]] = field(default_factory=dict)

    def put(self, state: SimState, upstream: str, data: dict, now: float) -> Share:
        """Add or replace a share; the downstream corp is created (and its given members put) as needed."""
        corpid = data["corpid"]
        corp = state.corps.get(corpid)
        if corp is None:
            corp = state.corps[corpid] = Corp({"corpid": corpid, "corp_name": data.get("corp_name", corpid)}, now)
        for member in data.get("members", []):
            corp.put_member(member)
        visible = data.get("visible_users")
        share = Share(corpid, data.get("corp_name") or corp.corp_name, int(data["agentid"]),
                      int(data.get("downstream_agentid") or data["agentid"]),
                      None if visible is None else list(dict.fromkeys(visible)))
        self.shares.setdefault((upstream, share.agentid), {})[corpid] = share
        return share

    def remove(self, upstream: str, agentid: int, corpid: str) -> bool:
        return self.shares.get((upstream, agentid), {}).pop(corpid, None) is not None

    def get(self, upstream: str, agentid: int, corpid: str) -> Share | None:
        return self.shares.get((upstream, agentid), {}).get(corpid)

    def listed(self, upstream: str, agentid: int) -> list[Share]:
        """In corpid order: the order the cursor resumes by."""
        return sorted(self.shares.get((upstream, agentid), {}).values(), key=lambda share: share.corpid)


_books: "weakref.WeakKeyDictionary[SimState, ShareBook]" = weakref.WeakKeyDictionary()


def book(sim: "Simulator") -> ShareBook:
    """The shares of the world loaded now, read from its scenario on first use (call with the lock held)."""
    state = sim.state
    found = _books.get(state)
    if found is None:
        found = _books[state] = ShareBook()
        for corp in sim._scenario.get("corps", []):
            for share in corp.get("app_shares", []):
                found.put(state, corp["corpid"], copy.deepcopy(share), sim.now())
    return found


def _agentid(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise WeComError(40056)
    return int(value)


def _caller_agent(call: Call, agentid: int) -> None:
    """An app's token may only name its own app (a suite's corp token names the authorised app: any)."""
    if call.token.agentid is not None and int(call.token.agentid) != agentid:
        raise WeComError(40056)


# --- the WeCom API ------------------------------------------------------------------------------------------------
def list_app_share_info(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    agentid = _agentid(body.get("agentid"))
    _caller_agent(call, agentid)
    business_type = body.get("business_type", 0)
    if business_type not in (0, CHAIN_BUSINESS):
        raise WeComError(40058, "business_type")
    limit = body.get("limit", SHARE_PAGE_MAX)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= SHARE_PAGE_MAX:
        raise WeComError(40058, "limit")
    pos = cursors.decode("share_info", body.get("cursor"), "c")
    if business_type != CHAIN_BUSINESS:
        return {"ending": 1, "next_cursor": "", "corp_list": []}
    shares = book(sim).listed(call.corpid, agentid)
    if body.get("corpid"):
        shares = [share for share in shares if share.corpid == body["corpid"]]
    start = bisect.bisect_right([share.corpid for share in shares], pos["c"]) if pos else 0
    page = shares[start : start + limit]
    more = start + limit < len(shares)
    cursor = cursors.encode("share_info", {"c": page[-1].corpid}) if more else ""
    return {"ending": 0 if more else 1, "next_cursor": cursor, "corp_list": [share.entry() for share in page]}


def corpgroup_gettoken(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    target = body.get("corpid")
    if not target:
        raise WeComError(41002)
    if body.get("business_type", 0) != CHAIN_BUSINESS:
        raise WeComError(40058, "business_type")
    agentid = _agentid(body.get("agentid"))
    _caller_agent(call, agentid)
    if target not in sim.state.corps:
        raise WeComError(40013)
    if book(sim).get(call.corpid, agentid, target) is None:
        raise WeComError(60011, "the app is not shared with this corp")
    settings, now = sim.state.settings, sim.now()
    token = sim.tokens.issue(key=(DOWNSTREAM_KIND, call.corpid, target, agentid), corpid=target,
                             kind=DOWNSTREAM_KIND, apis=DOWNSTREAM_APIS, agentid=agentid, now=now,
                             ttl=settings.token_ttl, rotate=settings.token_mode == "rotate")
    return {"access_token": token.token, "expires_in": max(0, int(round(token.expires_at - now)))}


def _share_of(sim: "Simulator", call: Call) -> Share:
    """The share a downstream token reads through; gone (the corp stopped sharing) → 60011."""
    _, upstream, target, agentid = call.token.key
    share = book(sim).get(upstream, agentid, target)
    if share is None:
        raise WeComError(60011, "the app is no longer shared with this corp")
    return share


def _downstream(route: Route, api: str) -> Route:
    """A route as a downstream token sees it: only the read-only APIs, only the share's visible range."""
    original = route.handler

    def handler(sim: "Simulator", call: Call) -> dict:
        if call.token is None or call.token.kind != DOWNSTREAM_KIND:
            return original(sim, call)
        if api not in DOWNSTREAM_APIS:
            raise WeComError(48002)
        share = _share_of(sim, call)
        if api == "user/get":
            userid = call.query.get("userid")
            if userid and userid in sim.state.corps[call.corpid].members and not share.sees(userid):
                raise WeComError(60011)
            return original(sim, call)
        return _visible_list_id(sim, call, share)

    return Route(handler, route.auth)


def _visible_list_id(sim: "Simulator", call: Call, share: Share) -> dict:
    """user/list_id over the visible members only (one entry per member and department, as the corp's own)."""
    body = call.json()
    limit = 10000 if body.get("limit") is None else body["limit"]
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10000:
        raise WeComError(40058, "limit")
    corp = sim.state.corps[call.corpid]
    pairs = [(userid, dept) for userid in corp.member_ids if share.sees(userid)
             for dept in sorted(corp.members[userid]["department"])]
    pos = cursors.decode("share_list_id", body.get("cursor"), "u", "d")
    start = bisect.bisect_right(pairs, (pos["u"], pos["d"])) if pos else 0
    page = pairs[start : start + limit]
    more = start + limit < len(pairs)
    cursor = cursors.encode("share_list_id", {"u": page[-1][0], "d": page[-1][1]}) if more else ""
    return {"next_cursor": cursor, "dept_user": [{"userid": u, "department": d} for u, d in page]}


# --- control ------------------------------------------------------------------------------------------------------
def put_share(sim: "Simulator", query: dict, body: dict) -> dict:
    """Share an upstream corp's app with a downstream corp (or change the share: name, visible range, members)."""
    with sim.lock:
        upstream = sim.state.corp(body.get("corpid")).corpid
        share = book(sim).put(sim.state, upstream, body["share"], sim.now())
        return {**share.entry(), "visible_users": share.visible_users}


def delete_share(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        upstream = sim.state.corp(query.get("corpid")).corpid
        if not book(sim).remove(upstream, int(query["agentid"]), query["share_corpid"]):
            raise NotFound(f"corp {query['share_corpid']!r} has no share of app {query['agentid']}")
    return {"deleted": True}


def put_share_member(sim: "Simulator", query: dict, body: dict) -> dict:
    """Add or change a downstream member; a share with a listed visible range also sees them."""
    with sim.lock:
        upstream = sim.state.corp(body.get("corpid")).corpid
        share = book(sim).get(upstream, int(body["agentid"]), body["share_corpid"])
        if share is None:
            raise NotFound(f"corp {body['share_corpid']!r} has no share of app {body['agentid']}")
        corp = sim.state.corps[share.corpid]
        member = corp.put_member(body["member"])
        if share.visible_users is not None and member["userid"] not in share.visible_users:
            share.visible_users.append(member["userid"])
        return corp.public_member(member["userid"])


def register(api_routes: dict[str, Route], control_routes: dict) -> None:
    """Serve the family: the two corpgroup APIs, the downstream view of every token-checked API, the controls."""
    for api, route in list(api_routes.items()):
        if route.auth == "corp":
            api_routes[api] = _downstream(route, api)
    api_routes["corpgroup/corp/list_app_share_info"] = Route(list_app_share_info, "corp")
    api_routes["corpgroup/corp/gettoken"] = Route(corpgroup_gettoken, "corp")
    control_routes[("POST", "app_shares")] = put_share
    control_routes[("DELETE", "app_shares")] = delete_share
    control_routes[("POST", "app_shares/members")] = put_share_member
