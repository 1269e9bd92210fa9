"""The simulated WeCom world: corps, members, customers, chains, suites and official accounts, loaded from a scenario.

Everything is indexed so the list APIs page in O(page) over 10,000+ customers: members by userid (plus a sorted userid
list for cursors), customers by external_userid, and each member's customers as a sorted list.
"""
from __future__ import annotations

import bisect
import copy
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

# Scenario-only member/customer keys: the simulator needs them (OAuth, follow-user list) but WeCom never returns them.
PRIVATE_MEMBER_KEYS = ("unionid", "follow_user")
PRIVATE_CUSTOMER_KEYS = ("openid", "follow_users")

# Which API path prefixes a token of each secret kind may call (WeCom answers 48002 otherwise).
DEFAULT_APIS: dict[str, tuple[str, ...]] = {
    "contacts": ("user/", "department/"),
    "externalcontact": ("externalcontact/",),
    "app": ("message/", "auth/", "user/get", "corpgroup/", "externalcontact/", "get_jsapi_ticket", "ticket/get"),
}


@dataclass
class Settings:
    """Tunable behaviour; every field can be set in the scenario's "settings" or through /__sim__/settings."""

    token_ttl: int = 7200
    token_mode: str = "stable"  # "stable": same token while valid (WeCom's rule); "rotate": each fetch supersedes
    expired_token_errcode: int = 42001  # WeCom often answers 40014 for expired tokens; tests can switch
    rate_limit_per_minute: int = 10000
    rate_limit_per_hour: int = 150000
    rate_limit_block_seconds: int = 60
    suite_ticket_ttl: int = 1800
    auth_code_ttl: int = 600
    oauth_code_ttl: int = 300

    def update(self, values: dict[str, Any]) -> None:
        """Apply known keys, rejecting unknown ones so typos in tests fail loudly."""
        known = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise KeyError(f"unknown setting {key!r}")
            if key == "token_mode" and value not in ("stable", "rotate"):
                raise ValueError("token_mode must be 'stable' or 'rotate'")
            setattr(self, key, value if key == "token_mode" else int(value))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Secret:
    """One corp secret (contacts, customer contact, or an app with its agentid) and the APIs its tokens may call."""

    kind: str
    secret: str
    agentid: int | None = None
    apis: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "Secret":
        apis = data.get("apis")
        return cls(
            kind=data["kind"],
            secret=data["secret"],
            agentid=data.get("agentid"),
            apis=tuple(apis) if apis is not None else DEFAULT_APIS.get(data["kind"], ()),
        )


@dataclass
class Chain:
    """An upstream/downstream (上下游) chain: groups plus its corps, kept in join order for cursor paging."""

    chain_id: str
    chain_name: str
    groups: list[dict] = field(default_factory=list)
    corps: dict[str, dict] = field(default_factory=dict)  # key (corpid or pending_corpid) -> group_corps entry
    order: list[tuple[int, str]] = field(default_factory=list)  # (join sequence, key), sorted
    _seqs: dict[str, int] = field(default_factory=dict)
    _next_seq: int = 0

    def put_corp(self, corp: dict) -> dict:
        """Add or replace a chain corp; returns the normalised group_corps entry."""
        joined = bool(corp.get("is_joined", True))
        entry = {
            "groupid": int(corp.get("groupid", 1)),
            "corp_name": corp["corp_name"],
            "custom_id": corp.get("custom_id", ""),
            "invite_userid": corp.get("invite_userid", ""),
            "is_joined": 1 if joined else 0,
        }
        if joined:
            entry["corpid"] = corp["corpid"]
        else:
            entry["pending_corpid"] = corp.get("pending_corpid") or corp["corpid"]
        key = entry.get("corpid") or entry["pending_corpid"]
        if key not in self.corps:
            self._next_seq += 1
            self._seqs[key] = self._next_seq
            self.order.append((self._next_seq, key))
        self.corps[key] = entry
        return entry

    def remove_corp(self, key: str) -> bool:
        if key not in self.corps:
            return False
        del self.corps[key]
        seq = self._seqs.pop(key)
        self.order.pop(bisect.bisect_left(self.order, (seq, key)))
        return True

    def seq_of(self, key: str) -> int:
        return self._seqs[key]

    def group_ids(self, groupid: int | None, fetch_child: bool) -> set[int] | None:
        """The group ids a listing covers: None = all; else the group and, with fetch_child, its descendants."""
        if not groupid:
            return None
        wanted = {groupid}
        if fetch_child:
            grew = True
            while grew:
                before = len(wanted)
                wanted |= {g["groupid"] for g in self.groups if g.get("parentid") in wanted}
                grew = len(wanted) != before
        return wanted


class Corp:
    """One WeCom corp: its secrets, callback config, contacts, customers and chains."""

    def __init__(self, data: dict, now: float) -> None:
        self.corpid: str = data["corpid"]
        self.corp_name: str = data.get("corp_name", self.corpid)
        self.corp_full_name: str = data.get("corp_full_name", self.corp_name)
        self.secrets = [Secret.from_dict(s) for s in data.get("secrets", [])]
        self.callback: dict | None = data.get("callback")
        self.external_attr_names: set[str] = set(data.get("external_attr_names", []))
        self.unionid_bound: bool = data.get("unionid_bound", True)
        self.departments: list[dict] = data.get("departments", [{"id": 1, "name": self.corp_name, "parentid": 0}])
        self.members: dict[str, dict] = {}
        self.member_ids: list[str] = []
        self.customers: dict[str, dict] = {}
        self.follows: dict[str, dict[str, dict]] = {}  # external_userid -> userid -> follow info (add order)
        self.by_user: dict[str, list[str]] = {}  # userid -> sorted external_userids
        self.chains: dict[str, Chain] = {}
        for member in data.get("members", []):
            self.put_member(member)
        for customer in data.get("customers", []):
            self.put_customer(customer, now)
        for chain in data.get("chains", []):
            c = Chain(chain["chain_id"], chain.get("chain_name", chain["chain_id"]))
            c.groups = [
                {"groupid": int(g["groupid"]), "group_name": g.get("group_name", ""),
                 "parentid": int(g.get("parentid", 0)), "order": int(g.get("order", 0))}
                for g in chain.get("groups", [])
            ]
            for corp in chain.get("corps", []):
                c.put_corp(corp)
            self.chains[c.chain_id] = c

    @property
    def app(self) -> Secret | None:
        """The corp's self-built app (its agentid goes into callbacks and message/send)."""
        return next((s for s in self.secrets if s.kind == "app"), None)

    # --- members -------------------------------------------------------------------------------------------------
    def put_member(self, member: dict) -> dict:
        """Add or replace a member, filling the fields user/get always returns."""
        m = copy.deepcopy(member)
        userid = m["userid"]
        depts = [int(d) for d in m.get("department", [1])]
        m["department"] = depts
        m.setdefault("name", userid)
        for key in ("order", "is_leader_in_dept"):  # per-department lists must match department's length
            if len(m.get(key, ())) != len(depts):
                m[key] = [0] * len(depts)
        if m.get("main_department") not in depts:
            m["main_department"] = depts[0] if depts else 1
        m.setdefault("position", "")
        m.setdefault("status", 1)
        m.setdefault("extattr", {"attrs": []})
        profile = m.setdefault("external_profile", {})
        profile.setdefault("external_attr", [])
        if userid not in self.members:
            bisect.insort(self.member_ids, userid)
            self.by_user.setdefault(userid, [])
        self.members[userid] = m
        return m

    def remove_member(self, userid: str) -> bool:
        """Delete a member and every follow relation it had (as WeCom does when a member leaves)."""
        if userid not in self.members:
            return False
        for ext in list(self.by_user.get(userid, [])):
            self.remove_follow(ext, userid)
        del self.members[userid]
        self.by_user.pop(userid, None)
        self.member_ids.pop(bisect.bisect_left(self.member_ids, userid))
        return True

    def public_member(self, userid: str) -> dict | None:
        """The member as user/get returns it (without the scenario-only keys)."""
        m = self.members.get(userid)
        if m is None:
            return None
        return {k: copy.deepcopy(v) for k, v in m.items() if k not in PRIVATE_MEMBER_KEYS}

    def follow_user_ids(self) -> list[str]:
        """Members with customer contact enabled: flagged in the scenario or having customers."""
        return [u for u in self.member_ids if self.members[u].get("follow_user") or self.by_user.get(u)]

    # --- customers -----------------------------------------------------------------------------------------------
    def put_customer(self, customer: dict, now: float) -> dict:
        """Add a customer (or update its details) and merge its follow users."""
        c = copy.deepcopy(customer)
        follow_users = c.pop("follow_users", [])
        ext = c["external_userid"]
        c.setdefault("name", ext)
        c.setdefault("type", 1)
        c.setdefault("gender", 0)
        c.setdefault("avatar", "")
        if c["type"] == 2:
            c.setdefault("corp_name", "")
            c.setdefault("corp_full_name", c["corp_name"])
        self.customers[ext] = {**self.customers.get(ext, {}), **c}
        self.follows.setdefault(ext, {})
        for follow in follow_users:
            self.put_follow(ext, follow, now)
        return self.customers[ext]

    def put_follow(self, external_userid: str, follow: dict, now: float) -> dict:
        """Record that a member added this customer (follow_info), keeping the per-member index sorted."""
        userid = follow["userid"]
        if userid not in self.members:
            raise KeyError(f"unknown member {userid!r}")
        f = {
            "userid": userid,
            "remark": follow.get("remark", ""),
            "description": follow.get("description", ""),
            "createtime": int(follow.get("createtime", now)),
            "tags": follow.get("tags", []),
            "remark_corp_name": follow.get("remark_corp_name", ""),
            "remark_mobiles": follow.get("remark_mobiles", []),
            "oper_userid": follow.get("oper_userid", userid),
            "add_way": int(follow.get("add_way", 0)),
        }
        if follow.get("state"):
            f["state"] = follow["state"]
        rel = self.follows.setdefault(external_userid, {})
        if userid not in rel:
            bisect.insort(self.by_user.setdefault(userid, []), external_userid)
        rel[userid] = f
        return f

    def remove_follow(self, external_userid: str, userid: str) -> bool:
        rel = self.follows.get(external_userid, {})
        if userid not in rel:
            return False
        del rel[userid]
        exts = self.by_user[userid]
        exts.pop(bisect.bisect_left(exts, external_userid))
        return True

    def remove_customer(self, external_userid: str) -> bool:
        if external_userid not in self.customers:
            return False
        for userid in list(self.follows.get(external_userid, {})):
            self.remove_follow(external_userid, userid)
        del self.customers[external_userid]
        self.follows.pop(external_userid, None)
        return True

    def public_customer(self, external_userid: str, with_unionid: bool = True) -> dict:
        """external_contact as WeCom returns it; unionid only for WeChat users of a corp bound to a developer id."""
        c = self.customers[external_userid]
        out = {k: copy.deepcopy(v) for k, v in c.items() if k not in PRIVATE_CUSTOMER_KEYS}
        if not (with_unionid and self.unionid_bound and c.get("type") == 1):
            out.pop("unionid", None)
        return out


@dataclass
class Authorization:
    """A corp's authorization of a third-party suite (the permanent code and who installed it)."""

    corpid: str
    permanent_code: str
    state: str = ""
    auth_user_info: dict = field(default_factory=dict)
    active: bool = False


class Suite:
    """A third-party suite (e.g. the 授权通讯录套件): credentials, live suite tickets, pending auth codes."""

    def __init__(self, data: dict, settings: Settings, now: float) -> None:
        self.suite_id: str = data["suite_id"]
        self.suite_secret: str = data["suite_secret"]
        self.callback: dict | None = data.get("callback")
        self.tickets: dict[str, float] = {}
        if data.get("suite_ticket"):
            self.tickets[data["suite_ticket"]] = now + settings.suite_ticket_ttl
        self.authorizations: dict[str, Authorization] = {}
        self.auth_codes: dict[str, tuple[str, float]] = {}  # code -> (corpid, expires_at)
        for auth in data.get("authorizations", []):
            a = Authorization(
                corpid=auth["corpid"],
                permanent_code=auth.get("permanent_code") or secrets.token_urlsafe(32),
                state=auth.get("state", ""),
                auth_user_info=auth.get("auth_user_info", {}),
                active=bool(auth.get("authorized", False)),
            )
            self.authorizations[a.corpid] = a
            if auth.get("auth_code"):
                self.auth_codes[auth["auth_code"]] = (a.corpid, now + settings.auth_code_ttl)

    def mint_ticket(self, now: float, ttl: int, ticket: str | None = None) -> str:
        """A new suite ticket, valid for ttl seconds (older ones stay valid until they expire, as in WeCom)."""
        ticket = ticket or secrets.token_urlsafe(32)
        self.tickets[ticket] = now + ttl
        return ticket

    def mint_auth_code(self, corpid: str, now: float, ttl: int, state: str | None = None) -> str:
        """A temporary auth code for a corp installing the suite (create_auth); creates the authorization if new."""
        auth = self.authorizations.get(corpid)
        if auth is None:
            auth = self.authorizations[corpid] = Authorization(corpid, secrets.token_urlsafe(32))
        if state is not None:
            auth.state = state
        code = secrets.token_urlsafe(24)
        self.auth_codes[code] = (corpid, now + ttl)
        return code


def oa_user(data: dict, now: float) -> dict:
    """An official account's user as `cgi-bin/user/info` knows them: following (subscribe 1) or not (0)."""
    subscribe = 1 if data.get("subscribe", 1) else 0
    user = {"openid": data["openid"], "subscribe": subscribe}
    if data.get("unionid"):
        user["unionid"] = data["unionid"]
    if subscribe:
        user["subscribe_time"] = int(data.get("subscribe_time", now))
    return user


class SimState:
    """The whole simulated world, built from a scenario dict."""

    def __init__(self, scenario: dict, now: float) -> None:
        self.settings = Settings()
        self.settings.update(scenario.get("settings", {}))
        self.corps: dict[str, Corp] = {}
        for corp in scenario.get("corps", []):
            self.corps[corp["corpid"]] = Corp(corp, now)
        if not self.corps:
            raise ValueError("a scenario needs at least one corp")
        self.default_corpid = next(iter(self.corps))
        # Downstream corps of a chain exist in WeCom even when the scenario does not detail them.
        for corp in list(self.corps.values()):
            for chain in corp.chains.values():
                for entry in chain.corps.values():
                    cid = entry.get("corpid")
                    if cid and cid not in self.corps:
                        self.corps[cid] = Corp({"corpid": cid, "corp_name": entry["corp_name"]}, now)
        self.suites: dict[str, Suite] = {
            s["suite_id"]: Suite(s, self.settings, now) for s in scenario.get("suites", [])
        }
        self.official_accounts: dict[str, dict] = {a["appid"]: a for a in scenario.get("official_accounts", [])}
        self.oauth_codes: dict[str, dict] = {}
        for account in self.official_accounts.values():
            for code in account.get("codes", []):
                self.oauth_codes[code["code"]] = {
                    "kind": "oa", "appid": account["appid"], "openid": code["openid"],
                    "unionid": code.get("unionid"), "scope": code.get("scope", "snsapi_userinfo"),
                    "expires_at": now + self.settings.oauth_code_ttl, "used": False,
                }
        self.messages: list[dict] = []
        # Official accounts' users (appid -> openid -> user/info fields) and the template messages they were sent.
        self.oa_users: dict[str, dict[str, dict]] = {
            appid: {u["openid"]: oa_user(u, now) for u in account.get("followers", [])}
            for appid, account in self.official_accounts.items()
        }
        self.template_messages: list[dict] = []
        self.message_times: dict[tuple, Any] = {}  # (corpid, agentid, userid) -> deque of send times
        self.message_bodies: dict[tuple, float] = {}  # (corpid, request JSON) -> last send, for duplicate checks
        # Customer groups (corpid -> chat_id -> groupchat/get's group_chat) and the JS-SDK's side (jssdk.py).
        self.group_chats: dict[str, dict[str, dict]] = {
            c["corpid"]: {g["chat_id"]: g for g in c.get("group_chats", [])} for c in scenario.get("corps", [])}
        self.jssdk: dict[str, Any] = {}

    def corp(self, corpid: str | None) -> Corp:
        """The named corp, or the scenario's first corp when corpid is empty (control API convenience)."""
        corp = self.corps.get(corpid or self.default_corpid)
        if corp is None:
            raise KeyError(f"unknown corp {corpid!r}")
        return corp

    def suite(self, suite_id: str | None) -> Suite:
        if not self.suites:
            raise KeyError("the scenario has no suite")
        suite = self.suites.get(suite_id or next(iter(self.suites)))
        if suite is None:
            raise KeyError(f"unknown suite {suite_id!r}")
        return suite
