"""WeCom's JS-SDK side, played for a page of ours (the chat toolbar): the two ticket APIs, the check WeCom's client
makes of a page's signatures, and a stand-in for the client's `ww` object.

- `GET /cgi-bin/get_jsapi_ticket?access_token` → `ticket`, `expires_in` (the corp's ticket, for `register`'s config
  signature); `GET /cgi-bin/ticket/get?access_token&type=agent_config` → the app's ticket (the agent signature). A
  ticket lives `ticket_ttl` (7200 s): within it the same ticket comes back, unless `token_mode` is `rotate` (each fetch
  supersedes the previous ticket, which stops verifying). WeCom allows 400 fetches an hour per corp and 100 per app:
  beyond them 45009.
- `check(...)`: what WeCom's client does with a page's signature — SHA-1 of
  `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` with a live ticket of the corp (or of the corp's app) and the page's
  URL without its fragment. `POST /__sim__/jssdk/verify` exposes it to tests.
- The stand-in `ww` (`GET /jssdk/ww.js`, for the local stack and the browser tests only): `register` sends the page's
  signatures here to be checked, `getContext` and `getCur*` answer from the chat the simulator is told to play
  (`POST /__sim__/jssdk/chat`), and `sendChatMessage` is recorded in the call log (path `/jssdk/sendChatMessage`), as
  is every registration (`/jssdk/register`, with what each signature's check said). Its calls are simple CORS requests
  (text/plain bodies), so the page's origin needs no preflight.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag

from .errors import WeComError

if TYPE_CHECKING:
    from .api import Call, Route
    from .server import Simulator

PREFIX = "/jssdk/"
PER_HOUR = {"corp": 400, "agent": 100}
ENTRIES = ("single_chat_tools", "group_chat_tools", "chain_single_chat_tools", "chain_group_chat_tools",
           "contact_profile", "normal", "chat_attachment", "single_kf_tools")
EXTERNAL_CONTACT_ENTRIES = ("single_chat_tools", "contact_profile")
CHAIN_ENTRIES = ("chain_single_chat_tools", "chain_group_chat_tools")
SEND_ENTRIES = ("single_chat_tools", "group_chat_tools", "chain_single_chat_tools", "chain_group_chat_tools")
SUITE_AGENTID = 1  # the suite's app in an authorising corp, as get_permanent_code's auth_info reports it


def _state(sim: "Simulator") -> dict:
    return sim.state.jssdk.setdefault("tickets", {})


def _issue(sim: "Simulator", corpid: str, agentid: int | None) -> dict:
    """The live ticket of the corp (agentid None) or of one of its apps, fetched once more."""
    kind = "corp" if agentid is None else "agent"
    now, settings = sim.now(), sim.state.settings
    slot = _state(sim).setdefault((corpid, agentid), {"tickets": [], "fetches": deque()})
    fetches = slot["fetches"]
    while fetches and now - fetches[0] >= 3600:
        fetches.popleft()
    if len(fetches) >= PER_HOUR[kind]:
        raise WeComError(45009)
    fetches.append(now)
    live = [t for t in slot["tickets"] if t["expires_at"] > now and not t["superseded"]]
    if live and settings.token_mode != "rotate":
        return live[-1]
    for ticket in slot["tickets"]:
        ticket["superseded"] = True
    ticket = {"ticket": secrets.token_urlsafe(40), "expires_at": now + settings.token_ttl, "superseded": False}
    slot["tickets"].append(ticket)
    return ticket


def _answer(sim: "Simulator", ticket: dict) -> dict:
    return {"ticket": ticket["ticket"], "expires_in": max(0, int(round(ticket["expires_at"] - sim.now())))}


def _agentid(call: "Call") -> int | None:
    token = call.token
    if token.kind == "suite_corp":
        return SUITE_AGENTID
    return token.agentid


def get_jsapi_ticket(sim: "Simulator", call: "Call") -> dict:
    return _answer(sim, _issue(sim, call.corpid, None))


def ticket_get(sim: "Simulator", call: "Call") -> dict:
    if call.query.get("type") != "agent_config":
        raise WeComError(40058, "type")
    agentid = _agentid(call)
    if agentid is None:
        raise WeComError(48002)  # a contacts or customer-contact secret's token has no app to sign for
    return _answer(sim, _issue(sim, call.corpid, agentid))


def routes(route: type["Route"]) -> dict[str, "Route"]:
    return {"get_jsapi_ticket": route(get_jsapi_ticket, "corp"), "ticket/get": route(ticket_get, "corp")}


# --- the check WeCom's client makes -------------------------------------------------------------------------------
def _sign(ticket: str, noncestr: str, timestamp: str, url: str) -> str:
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def check(sim: "Simulator", *, corpid: str, agentid: int | None, url: str, noncestr: Any, timestamp: Any,
          signature: Any) -> str | None:
    """None when the signature is one WeCom's client accepts for this page, else why not (its errMsg's words)."""
    if not all(isinstance(v, (str, int)) and str(v) for v in (noncestr, timestamp, signature)):
        raise ValueError("noncestr, timestamp and signature are required")
    slot = _state(sim).get((corpid, agentid))
    now = sim.now()
    live = [t for t in (slot or {}).get("tickets", []) if t["expires_at"] > now and not t["superseded"]]
    if not live:
        return "invalid signature (no live ticket: the ticket was never fetched, expired or was superseded)"
    page = urldefrag(url)[0]
    for ticket in live:
        if hmac.compare_digest(_sign(ticket["ticket"], str(noncestr), str(timestamp), page), str(signature)):
            return None
    return "invalid signature"


def _agent(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def control_verify(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        why = check(sim, corpid=sim.state.corp(body.get("corpid")).corpid, agentid=_agent(body.get("agentid")),
                    url=str(body["url"]), noncestr=body.get("noncestr") or body.get("nonceStr"),
                    timestamp=body.get("timestamp"), signature=body.get("signature"))
    return {"valid": why is None, "reason": why}


def control_tickets(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        now = sim.now()
        return {"tickets": [{"corpid": corpid, "agentid": agentid, "ticket": t["ticket"],
                             "expires_at": t["expires_at"], "live": t["expires_at"] > now and not t["superseded"]}
                            for (corpid, agentid), slot in _state(sim).items() for t in slot["tickets"]
                            if not query.get("corpid") or corpid == query["corpid"]]}


def control_chat(sim: "Simulator", query: dict, body: dict) -> dict:
    """Which chat the stand-in client plays: `{entry, external_userid? | chat_id? | corpid + userid?}`."""
    entry = body.get("entry")
    if entry not in ENTRIES:
        raise ValueError(f"entry must be one of {', '.join(ENTRIES)}")
    chat = {"entry": entry}
    if entry in EXTERNAL_CONTACT_ENTRIES:
        chat["external_userid"] = str(body["external_userid"])
    elif entry == "group_chat_tools":
        chat["chat_id"] = str(body["chat_id"])
    elif entry in CHAIN_ENTRIES:
        chat.update(corpid=str(body["corpid"]), userid=str(body["userid"]))
    with sim.lock:
        sim.state.jssdk["chat"] = chat
    return chat


def control_get_chat(sim: "Simulator", query: dict, body: dict) -> dict:
    with sim.lock:
        return dict(sim.state.jssdk.get("chat") or {"entry": "normal"})


CONTROL_ROUTES = {
    ("POST", "jssdk/verify"): control_verify,
    ("GET", "jssdk/tickets"): control_tickets,
    ("POST", "jssdk/chat"): control_chat,
    ("GET", "jssdk/chat"): control_get_chat,
}


# --- the stand-in client --------------------------------------------------------------------------------------------
STAND_IN = r"""/* A stand-in for WeCom's client behind @wecom/jssdk's `ww`, served by the WeCom simulator (local stack and tests
 * only): register's signatures are checked by the simulator against its tickets, the chat is the one it plays, and
 * sendChatMessage is recorded in its call log. */
(function () {
  'use strict';
  var root = new URL(document.currentScript.src).origin;
  var registered = null;

  function post(path, body) {
    return fetch(root + '/jssdk/' + path, { method: 'POST', headers: { 'Content-Type': 'text/plain' },
                                            body: JSON.stringify(body), credentials: 'omit' })
      .then(function (response) { return response.json(); });
  }

  function settle(answer, params) {
    var ok = /:ok$/.test(answer.errMsg || '');
    params = params || {};
    if (ok && params.success) params.success(answer);
    if (!ok && params.fail) params.fail(answer);
    if (params.complete) params.complete(answer);
    if (!ok) throw answer;
    return answer;
  }

  function register(options) {
    var url = location.href.split('#')[0];
    registered = Promise.all([
      options.getConfigSignature ? options.getConfigSignature(url) : null,
      options.getAgentConfigSignature ? options.getAgentConfigSignature(url) : null
    ]).then(function (signatures) {
      return post('register', { corpId: options.corpId, agentId: options.agentId, url: url,
                                jsApiList: options.jsApiList || [], config: signatures[0], agentConfig: signatures[1] });
    }).then(function (answer) {
      var config = { errMsg: answer.config }, agent = { errMsg: answer.agentConfig };
      if (/:ok$/.test(answer.config)) { if (options.onConfigSuccess) options.onConfigSuccess(config); }
      else if (options.onConfigFail) options.onConfigFail(config);
      if (/:ok$/.test(answer.agentConfig)) { if (options.onAgentConfigSuccess) options.onAgentConfigSuccess(agent); }
      else if (options.onAgentConfigFail) options.onAgentConfigFail(agent);
      return answer;
    });
  }

  function api(name) {
    return function (params) {
      if (!registered) return Promise.reject({ errMsg: name + ':fail not registered' });
      return registered.then(function (session) {
        return post('call', { session: session.session, api: name, params: params || {} });
      }).then(function (answer) { return settle(answer, params); });
    };
  }

  window.ww = { SDK_VERSION: 'stand-in', register: register };
  ['getContext', 'getCurExternalContact', 'getCurExternalChat', 'getCurCorpGroupContact', 'sendChatMessage']
    .forEach(function (name) { window.ww[name] = api(name); });
})();
"""


def _log(sim: "Simulator", path: str, body: Any, corpid: str | None, result: str) -> None:
    sim.calls.add({"time": sim.now(), "method": "POST", "path": path, "query": {}, "body": body, "corpid": corpid,
                   "errcode": 0 if result.endswith(":ok") else -1, "http_status": 200, "fault": None,
                   "errMsg": result})


def _register(sim: "Simulator", body: dict) -> dict:
    corpid, url = str(body.get("corpId") or ""), str(body.get("url") or "")
    agentid = _agent(body.get("agentId"))
    results = {}
    for name, agent in (("config", None), ("agentConfig", agentid)):
        signed = body.get(name)
        if corpid not in sim.state.corps:
            results[name] = f"{name}:fail invalid corpid"
        elif not isinstance(signed, dict):
            results[name] = f"{name}:fail missing signature"
        else:
            try:
                why = check(sim, corpid=corpid, agentid=agent, url=url, noncestr=signed.get("nonceStr"),
                            timestamp=signed.get("timestamp"), signature=signed.get("signature"))
            except ValueError:
                why = "invalid signature"
            results[name] = f"{name}:ok" if why is None else f"{name}:fail {why}"
    session = secrets.token_urlsafe(16)
    sim.state.jssdk.setdefault("sessions", {})[session] = {"corpid": corpid, "agentid": agentid,
                                                          "agent_ok": results["agentConfig"].endswith(":ok")}
    _log(sim, PREFIX + "register", body, corpid or None,
         "register:ok" if all(r.endswith(":ok") for r in results.values()) else "register:fail")
    return {"session": session, **results}


def _call(sim: "Simulator", body: dict) -> dict:
    name, params = str(body.get("api") or ""), body.get("params") or {}
    session = sim.state.jssdk.get("sessions", {}).get(body.get("session"))
    chat = sim.state.jssdk.get("chat") or {"entry": "normal"}
    entry = chat["entry"]
    answer: dict[str, Any]
    if session is None or not session["agent_ok"]:
        answer = {"errMsg": f"{name}:fail no permission"}
    elif name == "getContext":
        answer = {"errMsg": "getContext:ok", "entry": entry}
    elif name == "getCurExternalContact":
        answer = ({"errMsg": f"{name}:ok", "userId": chat["external_userid"]} if entry in EXTERNAL_CONTACT_ENTRIES
                  else {"errMsg": f"{name}:fail without context of external contact"})
    elif name == "getCurExternalChat":
        answer = ({"errMsg": f"{name}:ok", "chatId": chat["chat_id"]} if entry == "group_chat_tools"
                  else {"errMsg": f"{name}:fail without context of external contact"})
    elif name == "getCurCorpGroupContact":
        answer = ({"errMsg": f"{name}:ok", "corpId": chat["corpid"], "userId": chat["userid"]}
                  if entry in CHAIN_ENTRIES else {"errMsg": f"{name}:without context of corpgroup contact"})
    elif name == "sendChatMessage":
        answer = {"errMsg": _check_message(entry, params)}
    else:
        answer = {"errMsg": f"{name}:fail not supported by the stand-in"}
    corpid = session["corpid"] if session else None
    if name == "sendChatMessage":
        _log(sim, PREFIX + "sendChatMessage", {**params, "entry": entry, "chat": chat}, corpid, answer["errMsg"])
    return answer


def _check_message(entry: str, params: dict) -> str:
    if entry not in SEND_ENTRIES:
        return "sendChatMessage:fail without context of external contact"
    if params.get("msgtype") == "news":
        news = params.get("news") or {}
        if not isinstance(news, dict) or not news.get("link") or not news.get("title"):
            return "sendChatMessage:fail invalid news"
        return "sendChatMessage:ok"
    if params.get("msgtype") == "text" and (params.get("text") or {}).get("content"):
        return "sendChatMessage:ok"
    return "sendChatMessage:fail invalid msgtype"


def handle(sim: "Simulator", method: str, path: str, raw: bytes) -> tuple[int, dict, bytes]:
    """Serve the stand-in: its script, and what it asks (registration, calls). Every answer allows any origin."""
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
    if method == "GET" and path == PREFIX + "ww.js":
        return 200, {**headers, "Content-Type": "text/javascript; charset=utf-8"}, STAND_IN.encode("utf-8")
    handlers = {PREFIX + "register": _register, PREFIX + "call": _call}
    handler = handlers.get(path) if method == "POST" else None
    if handler is None:
        return 404, {**headers, "Content-Type": "text/plain"}, b"not found"
    try:
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return 400, {**headers, "Content-Type": "application/json"}, b'{"errMsg":"invalid json"}'
    with sim.lock:
        answer = handler(sim, body)
    return 200, {**headers, "Content-Type": "application/json; charset=UTF-8"}, \
        json.dumps(answer, ensure_ascii=False).encode("utf-8")
