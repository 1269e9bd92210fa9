"""The WeCom API handlers: one function per /cgi-bin/ path, answering with WeCom's field names and error codes.

Handlers run under the simulator's lock, get the parsed call, and return the success fields (the server adds
errcode/errmsg) or raise WeComError. Authentication, rate limiting and faults happen before them, in server.py.
"""
from __future__ import annotations

import bisect
import json
import secrets
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from . import cursors, groupchats, jssdk
from .errors import WeComError
from .state import Corp

if TYPE_CHECKING:
    from .server import Simulator
    from .tokens import Token

FOLLOW_PAGE = 500  # externalcontact/get pages follow users by 500, as WeCom documents
MESSAGE_LIMITS = ((60, 30), (3600, 1000))  # per app per member: 30/min, 1000/h; excess is silently dropped
WEB_TITLE_MAX = 12
DUPLICATE_CHECK_MAX = 4 * 3600


@dataclass
class Call:
    """One API call as the handlers see it."""

    method: str
    path: str  # as requested, e.g. /cgi-bin/user/get
    api: str  # relative to /cgi-bin/, e.g. user/get
    query: dict[str, str]
    body: Any
    client_ip: str
    token: "Token | None" = None
    corpid: str | None = None  # the corp (or suite) the call counts against

    def json(self) -> dict:
        """The JSON body of a POST; WeCom answers 47001 when it is not a JSON object."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise WeComError(47001)
        return self.body


Handler = Callable[["Simulator", Call], dict]


@dataclass(frozen=True)
class Route:
    handler: Handler
    auth: str  # "none" | "corp" (access_token) | "suite" (suite_access_token)


def _corp(sim: "Simulator", call: Call) -> Corp:
    return sim.state.corps[call.corpid]


def _expires_in(expires_at: float, now: float) -> int:
    return max(0, int(round(expires_at - now)))


# --- credentials ------------------------------------------------------------------------------------------------
def gettoken(sim: "Simulator", call: Call) -> dict:
    corpid, secret = call.query.get("corpid"), call.query.get("corpsecret")
    if not corpid:
        raise WeComError(41002)
    if not secret:
        raise WeComError(41004)
    corp = sim.state.corps.get(corpid)
    if corp is None:
        raise WeComError(40013)
    match = next((s for s in corp.secrets if s.secret == secret), None)
    if match is None:
        raise WeComError(40001)
    settings, now = sim.state.settings, sim.now()
    token = sim.tokens.issue(key=(corpid, secret), corpid=corpid, kind=match.kind, apis=match.apis,
                             agentid=match.agentid, now=now, ttl=settings.token_ttl,
                             rotate=settings.token_mode == "rotate")
    return {"access_token": token.token, "expires_in": _expires_in(token.expires_at, now)}


def get_suite_token(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    for key, code in (("suite_id", 41021), ("suite_secret", 40080), ("suite_ticket", 41023)):
        if not body.get(key):
            raise WeComError(code)
    suite = sim.state.suites.get(body["suite_id"])
    if suite is None:
        raise WeComError(40083)
    if body["suite_secret"] != suite.suite_secret:
        raise WeComError(40080)
    now = sim.now()
    if suite.tickets.get(body["suite_ticket"], 0) <= now:
        raise WeComError(40085)
    settings = sim.state.settings
    token = sim.tokens.issue(key=("suite", suite.suite_id), corpid=suite.suite_id, kind="suite",
                             apis=("service/",), agentid=None, now=now, ttl=settings.token_ttl,
                             rotate=settings.token_mode == "rotate")
    return {"suite_access_token": token.token, "expires_in": _expires_in(token.expires_at, now)}


def get_permanent_code(sim: "Simulator", call: Call) -> dict:
    suite = sim.state.suites[call.token.corpid]
    code = call.json().get("auth_code")
    entry = suite.auth_codes.pop(code, None) if code else None
    if entry is None or entry[1] <= sim.now():
        raise WeComError(40078)
    auth = suite.authorizations[entry[0]]
    auth.active = True
    return {"permanent_code": auth.permanent_code, **_auth_info(sim, suite, auth),
            "auth_user_info": auth.auth_user_info, "state": auth.state}


def get_auth_info(sim: "Simulator", call: Call) -> dict:
    """The authorising corp's current details: what a change_auth tells the suite to read again."""
    suite = sim.state.suites[call.token.corpid]
    body = call.json()
    auth = suite.authorizations.get(body.get("auth_corpid", ""))
    if auth is None or not auth.active or auth.permanent_code != body.get("permanent_code"):
        raise WeComError(40084)
    return _auth_info(sim, suite, auth)


def _auth_info(sim: "Simulator", suite, auth) -> dict:
    corp = sim.state.corps.get(auth.corpid)
    corp_name = corp.corp_name if corp else auth.corpid
    return {
        "auth_corp_info": {
            "corpid": auth.corpid, "corp_name": corp_name, "corp_type": "verified",
            "corp_square_logo_url": "", "corp_user_max": 200,
            "corp_full_name": corp.corp_full_name if corp else corp_name, "subject_type": 1,
            "corp_scale": "1-50人", "corp_industry": "", "corp_sub_industry": "",
        },
        "auth_info": {"agent": [{"agentid": 1, "name": suite.suite_id, "auth_mode": 0,
                                 "privilege": {"level": 1, "allow_party": [1], "allow_user": [], "allow_tag": [],
                                               "extra_party": [], "extra_user": [], "extra_tag": []}}]},
    }


def get_corp_token(sim: "Simulator", call: Call) -> dict:
    suite = sim.state.suites[call.token.corpid]
    body = call.json()
    if not body.get("permanent_code"):
        raise WeComError(41025)
    auth = suite.authorizations.get(body.get("auth_corpid", ""))
    if auth is None or not auth.active or auth.permanent_code != body["permanent_code"] \
            or auth.corpid not in sim.state.corps:
        raise WeComError(40084)
    settings, now = sim.state.settings, sim.now()
    token = sim.tokens.issue(key=("suite_corp", suite.suite_id, auth.corpid), corpid=auth.corpid,
                             kind="suite_corp", apis=None, agentid=None, now=now, ttl=settings.token_ttl,
                             rotate=settings.token_mode == "rotate")
    return {"access_token": token.token, "expires_in": _expires_in(token.expires_at, now)}


# --- members ----------------------------------------------------------------------------------------------------
def user_list_id(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    limit = 10000 if body.get("limit") is None else body["limit"]
    if not isinstance(limit, int) or not 1 <= limit <= 10000:
        raise WeComError(40058, "limit")
    corp = _corp(sim, call)
    pos = cursors.decode("list_id", body.get("cursor"), "u", "i")
    ids = corp.member_ids
    i, dept_index = 0, 0
    if pos:
        i = bisect.bisect_left(ids, pos["u"])
        if i < len(ids) and ids[i] == pos["u"]:
            dept_index = pos["i"]
    page: list[dict] = []
    while i < len(ids):
        depts = corp.members[ids[i]]["department"]
        while dept_index < len(depts):
            if len(page) == limit:
                return {"next_cursor": cursors.encode("list_id", {"u": ids[i], "i": dept_index}), "dept_user": page}
            page.append({"userid": ids[i], "department": depts[dept_index]})
            dept_index += 1
        i, dept_index = i + 1, 0
    return {"next_cursor": "", "dept_user": page}


def _member_or_error(corp: Corp, userid: str | None) -> dict:
    if not userid:
        raise WeComError(41009)
    member = corp.members.get(userid)
    if member is None:
        raise WeComError(60111)
    return member


def user_get(sim: "Simulator", call: Call) -> dict:
    corp = _corp(sim, call)
    member = _member_or_error(corp, call.query.get("userid"))
    return corp.public_member(member["userid"])


def user_getuserid(sim: "Simulator", call: Call) -> dict:
    """user/getuserid {mobile}: the member with this mobile. A mobile of 5-32 bytes is required (60103 otherwise);
    no such member is 46004."""
    mobile = call.json().get("mobile")
    if not isinstance(mobile, str) or not 5 <= len(mobile.encode("utf-8")) <= 32:
        raise WeComError(60103)
    corp = _corp(sim, call)
    found = next((u for u in corp.member_ids if corp.members[u].get("mobile") == mobile), None)
    if found is None:
        raise WeComError(46004)
    return {"userid": found}


def user_get_userid_by_email(sim: "Simulator", call: Call) -> dict:
    """user/get_userid_by_email {email, email_type}: email_type 1 (the default) looks at the corp mailbox
    (`biz_mail`), 2 at the member's own `email`. A malformed email is 60105, an unknown type 40058, none 46004."""
    body = call.json()
    email, email_type = body.get("email"), body.get("email_type", 1)
    if email_type not in (1, 2):
        raise WeComError(40058, "email_type")
    if not isinstance(email, str) or "@" not in email or len(email) > 64:
        raise WeComError(60105)
    field = "biz_mail" if email_type == 1 else "email"
    corp = _corp(sim, call)
    found = next((u for u in corp.member_ids if str(corp.members[u].get(field, "")).lower() == email.lower()), None)
    if found is None:
        raise WeComError(46004)
    return {"userid": found}


def _check_attr(attr: Any) -> None:
    """Reject an external_attr entry WeCom would reject (title length, url scheme, missing parts)."""
    if not isinstance(attr, dict) or attr.get("type") not in (0, 1, 2) or not attr.get("name"):
        raise WeComError(40058, "external_attr")
    part = {0: "text", 1: "web", 2: "miniprogram"}[attr["type"]]
    value = attr.get(part)
    if not isinstance(value, dict):
        raise WeComError(40058, f"external_attr.{part}")
    if attr["type"] == 1:
        if len(str(value.get("title", ""))) > WEB_TITLE_MAX or not value.get("title"):
            raise WeComError(40058, "web.title")
        url = str(value.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise WeComError(40094)
    if attr["type"] == 2 and not all(value.get(k) for k in ("appid", "pagepath", "title")):
        raise WeComError(40058, "miniprogram")


def user_update(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    corp = _corp(sim, call)
    member = _member_or_error(corp, body.get("userid"))
    updated = {**member, **{k: v for k, v in body.items() if k not in ("userid", "external_profile")}}
    if "external_profile" in body:
        given = body["external_profile"]
        if not isinstance(given, dict):
            raise WeComError(40058, "external_profile")
        profile = dict(member.get("external_profile", {}))
        for key, value in given.items():
            if key == "external_attr":
                if not isinstance(value, list):
                    raise WeComError(40058, "external_attr")
                for attr in value:
                    _check_attr(attr)
                # WeCom silently ignores attributes whose name is not configured in the admin console.
                value = [a for a in value if a["name"] in corp.external_attr_names]
            profile[key] = value
        updated["external_profile"] = profile
    corp.put_member(updated)
    return {"errmsg": "updated"}


# --- customers --------------------------------------------------------------------------------------------------
def get_follow_user_list(sim: "Simulator", call: Call) -> dict:
    return {"follow_user": _corp(sim, call).follow_user_ids()}


def externalcontact_list(sim: "Simulator", call: Call) -> dict:
    corp = _corp(sim, call)
    member = _member_or_error(corp, call.query.get("userid"))
    exts = corp.by_user.get(member["userid"], [])
    if not exts:
        raise WeComError(84061)
    return {"external_userid": list(exts)}


def _with_unionid(call: Call) -> bool:
    # Third-party (suite) tokens never see unionid.
    return call.token.kind != "suite_corp"


def externalcontact_get(sim: "Simulator", call: Call) -> dict:
    corp = _corp(sim, call)
    ext = call.query.get("external_userid")
    if not ext:
        raise WeComError(41035)
    if ext not in corp.customers:
        raise WeComError(40096)
    follows = list(corp.follows[ext].values())
    if not follows:
        raise WeComError(84061)
    pos = cursors.decode("get", call.query.get("cursor"), "x", "o")
    start = pos["o"] if pos and pos.get("x") == ext else 0
    page = follows[start:start + FOLLOW_PAGE]
    more = start + FOLLOW_PAGE < len(follows)
    return {
        "external_contact": corp.public_customer(ext, _with_unionid(call)),
        "follow_user": page,
        "next_cursor": cursors.encode("get", {"x": ext, "o": start + FOLLOW_PAGE}) if more else "",
    }


def _follow_info(follow: dict) -> dict:
    """batch/get_by_user's follow_info: like follow_user but tags become tag_id."""
    info = {k: v for k, v in follow.items() if k != "tags"}
    info["tag_id"] = [t["tag_id"] for t in follow.get("tags", [])]
    return info


def batch_get_by_user(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    userids = body.get("userid_list")
    if not isinstance(userids, list) or not 1 <= len(userids) <= 100:
        raise WeComError(40058, "userid_list")
    limit = body.get("limit") or 50
    if not isinstance(limit, int) or limit < 0:
        raise WeComError(40058, "limit")
    limit = min(limit, 100)  # WeCom: "超过最大值时取最大值"
    corp = _corp(sim, call)
    users = [u for u in dict.fromkeys(userids) if u in corp.members]
    pos = cursors.decode("batch", body.get("cursor"), "u", "x")
    ui, after = (pos["u"], pos["x"]) if pos else (0, None)
    with_unionid = _with_unionid(call)
    items: list[dict] = []
    last: tuple[int, str] | None = None
    while ui < len(users):
        exts = corp.by_user.get(users[ui], [])
        j = bisect.bisect_right(exts, after) if after is not None else 0
        while j < len(exts):
            if len(items) == limit:
                next_cursor = cursors.encode("batch", {"u": last[0], "x": last[1]})
                return {"external_contact_list": items, "next_cursor": next_cursor,
                        "fail_info": {"unlicensed_userid_list": []}}
            ext = exts[j]
            items.append({"external_contact": corp.public_customer(ext, with_unionid),
                          "follow_info": _follow_info(corp.follows[ext][users[ui]])})
            last = (ui, ext)
            j += 1
        ui, after = ui + 1, None
    return {"external_contact_list": items, "next_cursor": "", "fail_info": {"unlicensed_userid_list": []}}


# --- upstream / downstream --------------------------------------------------------------------------------------
def get_chain_list(sim: "Simulator", call: Call) -> dict:
    return {"chains": [{"chain_id": c.chain_id, "chain_name": c.chain_name} for c in _corp(sim, call).chains.values()]}


def _chain(sim: "Simulator", call: Call):
    chain = _corp(sim, call).chains.get(call.json().get("chain_id", ""))
    if chain is None:
        raise WeComError(40058, "chain_id")
    return chain


def get_chain_group(sim: "Simulator", call: Call) -> dict:
    return {"groups": [dict(g) for g in _chain(sim, call).groups]}


def get_chain_corpinfo_list(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    chain = _chain(sim, call)
    limit = body.get("limit") or 1000
    if not isinstance(limit, int) or limit < 0:
        raise WeComError(40058, "limit")
    limit = min(limit, 1000)
    groups = chain.group_ids(body.get("groupid"), bool(body.get("fetch_child")))
    need_pending = bool(body.get("need_pending"))
    pos = cursors.decode("chain", body.get("cursor"), "c", "s")
    if pos and pos.get("c") != chain.chain_id:
        raise WeComError(50100)
    i = bisect.bisect_right(chain.order, (pos["s"], "\uffff")) if pos else 0
    page: list[dict] = []
    while i < len(chain.order):
        seq, key = chain.order[i]
        entry = chain.corps[key]
        if (groups is None or entry["groupid"] in groups) and (need_pending or entry["is_joined"]):
            if len(page) == limit:
                last_seq = chain.seq_of(page[-1].get("corpid") or page[-1]["pending_corpid"])
                return {"group_corps": page, "has_more": True,
                        "next_cursor": cursors.encode("chain", {"c": chain.chain_id, "s": last_seq})}
            page.append(dict(entry))
        i += 1
    return {"group_corps": page, "has_more": False, "next_cursor": ""}


# --- messages and OAuth -----------------------------------------------------------------------------------------
def message_send(sim: "Simulator", call: Call) -> dict:
    body = call.json()
    corp = _corp(sim, call)
    agentid = body.get("agentid")
    if agentid is None or (call.token.agentid is not None and agentid != call.token.agentid):
        raise WeComError(40056)
    msgtype = body.get("msgtype")
    if msgtype not in ("text", "textcard", "markdown", "news", "template_card"):
        raise WeComError(40008 if msgtype else 40058, "msgtype")
    if msgtype == "text" and not (body.get("text") or {}).get("content"):
        raise WeComError(44004)
    touser = [u for u in str(body.get("touser", "")).split("|") if u]
    if touser == ["@all"]:
        touser = list(corp.member_ids)
    valid = [u for u in touser if u in corp.members]
    invalid = [u for u in touser if u not in corp.members]
    if not valid:
        raise WeComError(81013)
    now = sim.now()
    duplicate = _is_duplicate(sim, corp.corpid, body, now)
    delivered, dropped = [], []
    for userid in [] if duplicate else valid:
        sent = sim.state.message_times.setdefault((corp.corpid, agentid, userid), deque())
        while sent and now - sent[0] >= 3600:
            sent.popleft()
        if all(sum(1 for t in sent if now - t < window) < cap for window, cap in MESSAGE_LIMITS):
            sent.append(now)
            delivered.append(userid)
        else:
            dropped.append(userid)
    msgid = secrets.token_urlsafe(24)
    sim.state.messages.append({"msgid": msgid, "corpid": corp.corpid, "agentid": agentid, "msgtype": msgtype,
                               "touser": valid, "delivered": delivered, "dropped": dropped,
                               "duplicate": duplicate, "body": body, "time": now})
    return {"invaliduser": "|".join(invalid), "invalidparty": "", "invalidtag": "", "unlicenseduser": "",
            "msgid": msgid, "response_code": ""}


def _is_duplicate(sim: "Simulator", corpid: str, body: dict, now: float) -> bool:
    """WeCom's enable_duplicate_check: the same request JSON within the interval (default 1800 s, at most 4 h) is
    accepted but not delivered again."""
    if not body.get("enable_duplicate_check"):
        return False
    interval = min(int(body.get("duplicate_check_interval") or 1800), DUPLICATE_CHECK_MAX)
    key = (corpid, json.dumps(body, sort_keys=True, ensure_ascii=False))
    last = sim.state.message_bodies.get(key)
    if last is not None and now - last < interval:
        return True
    sim.state.message_bodies[key] = now
    return False


def auth_getuserinfo(sim: "Simulator", call: Call) -> dict:
    code = call.query.get("code")
    if not code:
        raise WeComError(41008)
    entry = sim.state.oauth_codes.get(code)
    if (entry is None or entry["kind"] != "wecom" or entry["corpid"] != call.corpid or entry["used"]
            or entry["expires_at"] <= sim.now()):
        raise WeComError(40029)
    entry["used"] = True
    if entry.get("userid"):
        return {"userid": entry["userid"]}
    out = {"openid": entry["openid"]}
    if entry.get("external_userid"):
        out["external_userid"] = entry["external_userid"]
    return out


def sns_oauth2_access_token(sim: "Simulator", call: Call) -> dict:
    """Official-account OAuth (api.weixin.qq.com): success carries no errcode, exactly as WeChat answers."""
    q = call.query
    account = sim.state.official_accounts.get(q.get("appid", ""))
    if account is None:
        raise WeComError(40013)
    if q.get("secret") != account["secret"]:
        raise WeComError(40125)
    if q.get("grant_type") != "authorization_code":
        raise WeComError(40002)
    entry = sim.state.oauth_codes.get(q.get("code", ""))
    if entry is None or entry["kind"] != "oa" or entry["appid"] != account["appid"] \
            or entry["expires_at"] <= sim.now():
        raise WeComError(40029)
    if entry["used"]:
        raise WeComError(40163)
    entry["used"] = True
    out = {"access_token": secrets.token_urlsafe(48), "expires_in": 7200,
           "refresh_token": secrets.token_urlsafe(48), "openid": entry["openid"], "scope": entry["scope"]}
    if entry["scope"] == "snsapi_userinfo" and entry.get("unionid"):
        out["unionid"] = entry["unionid"]
    return out



# --- WeChat official account (api.weixin.qq.com/cgi-bin/...) ----------------------------------------------------
# Like the OAuth exchange these answer with WeChat's bodies: no errcode on a successful token or user/info, errors
# with an rid. The account's own access_token (cgi-bin/token) is checked like WeChat checks it: missing 41001,
# unknown or superseded 40001, expired 42001.
OA_TEMPLATE_DATA_MAX = 20


def oa_token(sim: "Simulator", call: Call) -> dict:
    q = call.query
    if q.get("grant_type") != "client_credential":
        raise WeComError(40002)
    account = sim.state.official_accounts.get(q.get("appid", ""))
    if account is None:
        raise WeComError(40013)
    if q.get("secret") != account["secret"]:
        raise WeComError(40125)
    settings, now = sim.state.settings, sim.now()
    token = sim.tokens.issue(key=("oa", account["appid"], account["secret"]), corpid=account["appid"], kind="oa",
                             apis=None, agentid=None, now=now, ttl=settings.token_ttl,
                             rotate=settings.token_mode == "rotate")
    return {"access_token": token.token, "expires_in": _expires_in(token.expires_at, now)}


def _oa_account(sim: "Simulator", call: Call) -> dict:
    """The official account whose access_token the call carries."""
    value = call.query.get("access_token")
    if not value:
        raise WeComError(41001)
    token = sim.tokens.lookup(value)
    if token is None or token.kind != "oa" or token.invalidated:
        raise WeComError(40001)
    call.corpid = token.corpid
    if token.expires_at <= sim.now():
        raise WeComError(42001)
    call.token = token
    return sim.state.official_accounts[token.corpid]


def _oa_user(sim: "Simulator", appid: str, openid: str) -> dict | None:
    """user/info's view of an openid of this account: a (former) follower, someone who went through its OAuth, or a
    scenario customer (whose openid is under the scenario's account); None when the account never met them."""
    state = sim.state
    user = state.oa_users.get(appid, {}).get(openid)
    if user is not None:
        return user
    for entry in state.oauth_codes.values():
        if entry.get("kind") == "oa" and entry["appid"] == appid and entry["openid"] == openid:
            return {"openid": openid, "subscribe": 0, **({"unionid": entry["unionid"]} if entry.get("unionid") else {})}
    for corp in state.corps.values():
        for customer in corp.customers.values():
            if customer.get("openid") == openid:
                unionid = customer.get("unionid")
                return {"openid": openid, "subscribe": 0, **({"unionid": unionid} if unionid else {})}
    return None


def oa_user_info(sim: "Simulator", call: Call) -> dict:
    account = _oa_account(sim, call)
    openid = call.query.get("openid")
    if not openid:
        raise WeComError(41009)
    user = _oa_user(sim, account["appid"], openid)
    if user is None:
        raise WeComError(40003)
    if not user["subscribe"]:
        return dict(user)
    return {"language": "zh_CN", "remark": "", "groupid": 0, "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE",
            "qr_scene": 0, "qr_scene_str": "", **user}


def oa_template_send(sim: "Simulator", call: Call) -> dict:
    account = _oa_account(sim, call)
    body = call.json()
    templates = {t["template_id"] for t in account.get("templates", [])}
    if not body.get("template_id") or body["template_id"] not in templates:
        raise WeComError(40037)
    user = _oa_user(sim, account["appid"], str(body.get("touser") or ""))
    if user is None:
        raise WeComError(40003)
    if not user["subscribe"]:
        raise WeComError(43004)
    data = body.get("data")
    if not isinstance(data, dict) or len(data) > OA_TEMPLATE_DATA_MAX \
            or not all(isinstance(v, dict) and "value" in v for v in data.values()):
        raise WeComError(47001)
    msgid = 200000000 + len(sim.state.template_messages) + 1
    sim.state.template_messages.append({"msgid": msgid, "appid": account["appid"], "touser": body["touser"],
                                        "template_id": body["template_id"], "url": body.get("url", ""),
                                        "data": data, "client_msg_id": body.get("client_msg_id"),
                                        "time": sim.now()})
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


ROUTES: dict[str, Route] = {
    "gettoken": Route(gettoken, "none"),
    "service/get_suite_token": Route(get_suite_token, "none"),
    "service/v2/get_permanent_code": Route(get_permanent_code, "suite"),
    "service/get_corp_token": Route(get_corp_token, "suite"),
    "service/get_auth_info": Route(get_auth_info, "suite"),
    "user/list_id": Route(user_list_id, "corp"),
    "user/get": Route(user_get, "corp"),
    "user/getuserid": Route(user_getuserid, "corp"),
    "user/get_userid_by_email": Route(user_get_userid_by_email, "corp"),
    "user/update": Route(user_update, "corp"),
    "externalcontact/get_follow_user_list": Route(get_follow_user_list, "corp"),
    "externalcontact/list": Route(externalcontact_list, "corp"),
    "externalcontact/get": Route(externalcontact_get, "corp"),
    "externalcontact/batch/get_by_user": Route(batch_get_by_user, "corp"),
    "corpgroup/corp/get_chain_list": Route(get_chain_list, "corp"),
    "corpgroup/corp/get_chain_group": Route(get_chain_group, "corp"),
    "corpgroup/corp/get_chain_corpinfo_list": Route(get_chain_corpinfo_list, "corp"),
    "message/send": Route(message_send, "corp"),
    "auth/getuserinfo": Route(auth_getuserinfo, "corp"),
}
ROUTES.update(jssdk.routes(Route))
ROUTES.update(groupchats.routes(Route))

SNS_ROUTES: dict[str, Route] = {
    "/sns/oauth2/access_token": Route(sns_oauth2_access_token, "none"),
    "/cgi-bin/token": Route(oa_token, "none"),
    "/cgi-bin/user/info": Route(oa_user_info, "none"),
    "/cgi-bin/message/template/send": Route(oa_template_send, "none"),
}
