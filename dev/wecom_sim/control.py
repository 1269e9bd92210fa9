"""The /__sim__/ control API: how tests and the local stack drive the simulator (JSON in, JSON out).

Everything a test needs to arrange or observe WeCom's side lives here: scenario loading, the call log, faults, rate
limits, tokens, the clock, members/customers/chain corps, OAuth codes, messages, and pushed callbacks.
"""
from __future__ import annotations

import copy
import json
import secrets
from typing import TYPE_CHECKING, Any, Callable

from . import callbacks, groupchats, jssdk, official_account
from .calllog import normalise_path
from .limits import Fault

if TYPE_CHECKING:
    from .server import Simulator

ControlHandler = Callable[["Simulator", dict, dict], dict]


class NotFound(Exception):
    """Answered as HTTP 404."""


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


# --- scenario, log, faults, limits, settings, tokens, clock -----------------------------------------------------
def load_scenario(sim: "Simulator", query: dict, body: dict) -> dict:
    sim.load(body)
    return {"loaded": True, "corps": list(sim.state.corps)}


def reset(sim: "Simulator", query: dict, body: dict) -> dict:
    sim.reset()
    return {"reset": True}


def get_calls(sim: "Simulator", query: dict, body: dict) -> dict:
    return {"calls": sim.calls.select(query.get("path"), query.get("corpid"), _int_or_none(query.get("errcode")))}


def clear_calls(sim: "Simulator", query: dict, body: dict) -> dict:
    sim.calls.clear()
    return {"cleared": True}


def get_faults(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        return {"faults": [f.as_dict() for f in sim.faults.list()]}


def set_fault(sim: "Simulator", query: dict, body: dict) -> dict:
    path = body["path"]
    fault = Fault(path="*" if path == "*" else normalise_path(path), latency_ms=int(body.get("latency_ms", 0)),
                  http_status=_int_or_none(body.get("http_status")), errcode=_int_or_none(body.get("errcode")),
                  drop=bool(body.get("drop", False)), times=_int_or_none(body.get("times")))
    with sim.lock:
        sim.faults.set(fault)
    return {"fault": fault.as_dict()}


def clear_faults(sim: "Simulator", query: dict, body: dict) -> dict:
    path = query.get("path")
    with sim.lock:
        sim.faults.clear(None if path is None else ("*" if path == "*" else normalise_path(path)))
    return {"cleared": True}


def set_rate_limit(sim: "Simulator", query: dict, body: dict) -> dict:
    path = body.get("path")
    with sim.lock:
        limit = sim.limiter.set_limit(int(body["per_minute"]), corpid=body.get("corpid"),
                                      path=normalise_path(path) if path else None,
                                      per_hour=_int_or_none(body.get("per_hour")),
                                      block_seconds=_int_or_none(body.get("block_seconds")))
    return {"per_minute": limit.per_minute, "per_hour": limit.per_hour, "block_seconds": limit.block_seconds}


def clear_rate_limits(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        sim.limiter.clear()
    return {"cleared": True}


def update_settings(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        sim.state.settings.update(body)
        return sim.state.settings.as_dict()


def get_settings(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        return sim.state.settings.as_dict()


def invalidate_tokens(sim: "Simulator", query: dict, body: dict) -> dict:
    if not (body.get("corpid") or body.get("token") or body.get("all")):
        raise ValueError("give corpid, token, or all: true")
    with sim.lock:
        return {"invalidated": sim.tokens.invalidate(corpid=body.get("corpid"), token=body.get("token"))}


def live_tokens(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        return {"tokens": [t.as_dict() for t in sim.tokens.live(sim.now(), query.get("corpid"))]}


def get_clock(sim: "Simulator", query: dict, body: dict) -> dict:
    return {"now": sim.now()}


def advance_clock(sim: "Simulator", query: dict, body: dict) -> dict:
    return {"now": sim.clock.advance(float(body["seconds"]))}


# --- the directory ----------------------------------------------------------------------------------------------
def get_member(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        member = sim.state.corp(query.get("corpid")).public_member(query["userid"])
    if member is None:
        raise NotFound(f"no member {query['userid']!r}")
    return member


def put_member(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        corp = sim.state.corp(body.get("corpid"))
        return corp.public_member(corp.put_member(body["member"])["userid"])


def put_corp(sim: "Simulator", query: dict, body: dict) -> dict:
    """Rename a corp (what an admin does in WeCom's console; a suite learns it from change_auth)."""
    with sim.lock:
        corp = sim.state.corp(body.get("corpid"))
        corp.corp_name = body.get("corp_name", corp.corp_name)
        corp.corp_full_name = body.get("corp_full_name", corp.corp_full_name)
        return {"corpid": corp.corpid, "corp_name": corp.corp_name, "corp_full_name": corp.corp_full_name}


def delete_member(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        if not sim.state.corp(query.get("corpid")).remove_member(query["userid"]):
            raise NotFound(f"no member {query['userid']!r}")
    return {"deleted": True}


def get_customer(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        corp = sim.state.corp(query.get("corpid"))
        ext = query["external_userid"]
        if ext not in corp.customers:
            raise NotFound(f"no customer {ext!r}")
        return {"external_contact": corp.public_customer(ext), "follow_user": list(corp.follows[ext].values())}


def put_customer(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        corp = sim.state.corp(body.get("corpid"))
        customer = corp.put_customer(body["customer"], sim.now())
        ext = customer["external_userid"]
        return {"external_contact": corp.public_customer(ext), "follow_user": list(corp.follows[ext].values())}


def delete_customer(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        corp = sim.state.corp(query.get("corpid"))
        ext = query["external_userid"]
        done = corp.remove_follow(ext, query["userid"]) if query.get("userid") else corp.remove_customer(ext)
    if not done:
        raise NotFound(f"no such customer or follow relation {ext!r}")
    return {"deleted": True}


def put_chain_corp(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        chain = sim.state.corp(body.get("corpid")).chains[body["chain_id"]]
        return chain.put_corp(body["corp"])


def delete_chain_corp(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        chain = sim.state.corp(query.get("corpid")).chains[query["chain_id"]]
        if not chain.remove_corp(query["chain_corpid"]):
            raise NotFound(f"no corp {query['chain_corpid']!r} in chain {chain.chain_id}")
    return {"deleted": True}


# --- OAuth, messages, callbacks ---------------------------------------------------------------------------------
def mint_oauth_code(sim: "Simulator", query: dict, body: dict) -> dict:
    """A code as WeCom (corp OAuth) or WeChat (official-account OAuth) would put on the redirect URL."""
    with sim.lock:
        state = sim.state
        now = sim.now()
        entry: dict[str, Any] = {"used": False, "expires_at": now + state.settings.oauth_code_ttl}
        if body.get("appid"):
            if body["appid"] not in state.official_accounts:
                raise KeyError(f"unknown official account {body['appid']!r}")
            corp = state.corp(body.get("corpid"))
            known = corp.members.get(body.get("userid", "")) or corp.customers.get(body.get("external_userid", ""))
            known = known or {}
            entry.update(kind="oa", appid=body["appid"], scope=body.get("scope", "snsapi_userinfo"),
                         openid=body.get("openid") or known.get("openid") or "o" + secrets.token_urlsafe(20),
                         unionid=body.get("unionid") or known.get("unionid"))
        else:
            corp = state.corp(body.get("corpid"))
            entry.update(kind="wecom", corpid=corp.corpid)
            if body.get("userid"):
                if body["userid"] not in corp.members:
                    raise KeyError(f"unknown member {body['userid']!r}")
                entry["userid"] = body["userid"]
            else:
                customer = corp.customers.get(body.get("external_userid", ""), {})
                entry.update(external_userid=body.get("external_userid"),
                             openid=body.get("openid") or customer.get("openid") or "o" + secrets.token_urlsafe(20))
        code = secrets.token_urlsafe(24)
        state.oauth_codes[code] = entry
    return {"code": code, "expires_in": state.settings.oauth_code_ttl}


def get_messages(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        messages = [m for m in sim.state.messages
                    if (not query.get("corpid") or m["corpid"] == query["corpid"])
                    and (not query.get("touser") or query["touser"] in m["touser"])]
        return {"messages": copy.deepcopy(messages)}


def push(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        out = callbacks.build(sim, body)
        timestamp = str(body.get("timestamp") or int(sim.now()))
    return callbacks.deliver(out, body["target_url"], timestamp, body.get("nonce"))


def verify(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        out = callbacks.verification_target(sim, body)
        timestamp = str(body.get("timestamp") or int(sim.now()))
    return callbacks.verify_url(out, body["target_url"], timestamp, body.get("nonce"))



def _official_account(sim: "Simulator", appid: str | None) -> dict:
    accounts = sim.state.official_accounts
    if not accounts:
        raise KeyError("the scenario has no official account")
    account = accounts.get(appid or next(iter(accounts)))
    if account is None:
        raise KeyError(f"unknown official account {appid!r}")
    return account


def put_oa_follower(sim: "Simulator", query: dict, body: dict) -> dict:
    """Someone follows (subscribe 1) or unfollows (0) an official account: what `user/info` and template sends see."""
    from .state import oa_user

    with sim.lock:
        account = _official_account(sim, body.get("appid"))
        user = oa_user(body, sim.now())
        sim.state.oa_users.setdefault(account["appid"], {})[user["openid"]] = user
        return dict(user)


def get_template_messages(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        found = [m for m in sim.state.template_messages
                 if (not query.get("appid") or m["appid"] == query["appid"])
                 and (not query.get("touser") or m["touser"] == query["touser"])]
        return {"messages": copy.deepcopy(found)}


ROUTES: dict[tuple[str, str], ControlHandler] = {
    ("POST", "scenario"): load_scenario,
    ("POST", "reset"): reset,
    ("GET", "calls"): get_calls,
    ("DELETE", "calls"): clear_calls,
    ("GET", "faults"): get_faults,
    ("POST", "faults"): set_fault,
    ("DELETE", "faults"): clear_faults,
    ("POST", "rate_limits"): set_rate_limit,
    ("DELETE", "rate_limits"): clear_rate_limits,
    ("GET", "settings"): get_settings,
    ("POST", "settings"): update_settings,
    ("POST", "tokens/invalidate"): invalidate_tokens,
    ("GET", "tokens"): live_tokens,
    ("GET", "clock"): get_clock,
    ("POST", "clock/advance"): advance_clock,
    ("GET", "member"): get_member,
    ("POST", "corp"): put_corp,
    ("POST", "members"): put_member,
    ("DELETE", "members"): delete_member,
    ("GET", "customer"): get_customer,
    ("POST", "customers"): put_customer,
    ("DELETE", "customers"): delete_customer,
    ("POST", "chain_corps"): put_chain_corp,
    ("DELETE", "chain_corps"): delete_chain_corp,
    ("POST", "oauth/code"): mint_oauth_code,
    ("GET", "messages"): get_messages,
    ("POST", "push"): push,
    ("POST", "verify"): verify,
    ("POST", "oa/followers"): put_oa_follower,
    ("GET", "oa/messages"): get_template_messages,
    **jssdk.CONTROL_ROUTES,
    **groupchats.CONTROL_ROUTES,
}
ROUTES.update(official_account.CONTROL_ROUTES)


def handle_control(sim: "Simulator", method: str, subpath: str, query: dict, raw: bytes) -> tuple[int, dict]:
    """Dispatch one control request; bad input is a 400 with the reason, unknown things a 404."""
    handler = ROUTES.get((method, subpath.rstrip("/")))
    if handler is None:
        return 404, {"error": f"no control endpoint {method} /__sim__/{subpath}"}
    try:
        body = json.loads(raw) if raw else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return 200, handler(sim, query, body)
    except NotFound as exc:
        return 404, {"error": str(exc)}
    except (KeyError, ValueError, TypeError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}
