"""Callbacks pushed exactly as WeCom pushes them: WeCom-shaped XML, encrypted by wechatpy as an independent peer.

Building happens under the simulator lock (it may mint tickets or auth codes); delivery happens outside it, because
the receiving app may call straight back into the simulator.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

try:  # wechatpy >= 2 calls the WeCom package "work"; the pinned 1.8 calls it "enterprise"
    from wechatpy.work.crypto import WeChatCrypto
except ImportError:
    from wechatpy.enterprise.crypto import WeChatCrypto

if TYPE_CHECKING:
    from .server import Simulator

DELIVERY_TIMEOUT = 5  # WeCom gives up on a callback after 5 s
EXTERNAL_CONTACT_KINDS = {"add_external_contact", "edit_external_contact", "del_external_contact", "del_follow_user",
                          "add_half_external_contact", "transfer_fail"}
CONTACT_KINDS = {"create_user", "update_user", "delete_user"}
CHAIN_KINDS = {"create_chain": "create_chain", "update_chain": "update_chain", "change_chain": "update_chain"}
SHARE_KINDS = {"share_chain_change"}  # an upstream app shared with or withdrawn from downstream corps
SUITE_KINDS = {"suite_ticket", "create_auth", "change_auth", "cancel_auth", "reset_permanent_code"}


@dataclass
class Outgoing:
    """A built callback: the plaintext XML and how to encrypt and address it."""

    plaintext: str
    token: str
    aes_key: str
    receiveid: str
    to_user: str
    agentid: str


def _xml(items: list[tuple[str, Any]]) -> str:
    """WeCom's XML: strings in CDATA, numbers bare, one element per line."""
    lines = ["<xml>"]
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, int):
            lines.append(f"<{name}>{value}</{name}>")
        else:
            lines.append(f"<{name}><![CDATA[{value}]]></{name}>")
    lines.append("</xml>")
    return "\n".join(lines)


def build(sim: "Simulator", params: dict) -> Outgoing:
    """Build the callback a push request describes (call with sim.lock held)."""
    kind = params["kind"]
    now = int(params.get("create_time") or sim.now())
    if kind in SUITE_KINDS:
        return _build_suite_instruction(sim, kind, params, now)
    if kind in EXTERNAL_CONTACT_KINDS:
        event, fields = "change_external_contact", _external_contact_fields(kind, params)
    elif kind in CONTACT_KINDS:
        event, fields = "change_contact", _contact_fields(sim, kind, params)
    elif kind in CHAIN_KINDS:
        event, fields = "change_chain", [("ChangeType", CHAIN_KINDS[kind]), ("ChainId", params["chain_id"])]
    elif kind in SHARE_KINDS:
        event, fields = kind, []
    else:
        raise ValueError(f"unknown callback kind {kind!r}")
    corp = sim.state.corp(params.get("corpid"))
    via = params.get("via", "corp")
    if via == "corp":
        if not corp.callback:
            raise ValueError(f"corp {corp.corpid} has no callback config")
        app = corp.app
        items = [("ToUserName", corp.corpid), ("FromUserName", "sys"), ("CreateTime", now), ("MsgType", "event"),
                 ("Event", event), *fields]
        return Outgoing(_xml(items), corp.callback["token"], corp.callback["encoding_aes_key"], corp.corpid,
                        corp.corpid, str(app.agentid) if app and app.agentid else "")
    suite = sim.state.suite(params.get("suite_id"))
    if via == "suite":
        items = [("SuiteId", suite.suite_id), ("AuthCorpId", corp.corpid), ("InfoType", event), ("TimeStamp", now),
                 *fields]
        return Outgoing(_xml(items), suite.callback["token"], suite.callback["encoding_aes_key"], suite.suite_id,
                        suite.suite_id, "")
    if via == "suite_data":
        items = [("ToUserName", corp.corpid), ("FromUserName", "sys"), ("CreateTime", now), ("MsgType", "event"),
                 ("Event", event), *fields]
        return Outgoing(_xml(items), suite.callback["token"], suite.callback["encoding_aes_key"], corp.corpid,
                        corp.corpid, str(params.get("agentid", "")))
    raise ValueError(f"unknown via {via!r}: use corp, suite or suite_data")


def _external_contact_fields(kind: str, params: dict) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [("ChangeType", kind), ("UserID", params["userid"]),
                                     ("ExternalUserID", params["external_userid"])]
    if kind in ("add_external_contact", "add_half_external_contact"):
        fields += [("State", params.get("state")), ("WelcomeCode", params.get("welcome_code")
                                                    or secrets.token_urlsafe(24))]
    if kind == "del_external_contact":
        fields.append(("Source", params.get("source")))
    if kind == "transfer_fail":
        fields.append(("FailReason", params.get("fail_reason", "customer_refused")))
    return fields


def _contact_fields(sim: "Simulator", kind: str, params: dict) -> list[tuple[str, Any]]:
    userid = params["userid"]
    fields: list[tuple[str, Any]] = [("ChangeType", kind), ("UserID", userid)]
    if kind == "delete_user":
        return fields
    if params.get("new_userid"):
        fields.append(("NewUserID", params["new_userid"]))
    member = sim.state.corp(params.get("corpid")).members.get(params.get("new_userid") or userid)
    if member is None:
        return fields
    join = ",".join
    if params.get("via") == "suite":  # contacts-sync style: only ids and departments
        return fields + [("Department", join(map(str, member["department"])))]
    return fields + [
        ("Name", member["name"]),
        ("Department", join(map(str, member["department"]))),
        ("MainDepartment", int(member["main_department"])),
        ("IsLeaderInDept", join(map(str, member["is_leader_in_dept"]))),
        ("Position", member.get("position", "")),
        ("Status", int(member.get("status", 1))),
    ]


def _build_suite_instruction(sim: "Simulator", kind: str, params: dict, now: int) -> Outgoing:
    suite = sim.state.suite(params.get("suite_id"))
    if not suite.callback:
        raise ValueError(f"suite {suite.suite_id} has no callback config")
    settings = sim.state.settings
    head = [("SuiteId", suite.suite_id)]
    if kind == "suite_ticket":
        ticket = suite.mint_ticket(sim.now(), settings.suite_ticket_ttl, params.get("suite_ticket"))
        items = head + [("InfoType", kind), ("TimeStamp", now), ("SuiteTicket", ticket)]
    elif kind in ("create_auth", "reset_permanent_code"):
        code = suite.mint_auth_code(params["corpid"], sim.now(), settings.auth_code_ttl, params.get("state"))
        state = suite.authorizations[params["corpid"]].state if kind == "create_auth" else None
        items = head + [("AuthCode", code), ("InfoType", kind), ("TimeStamp", now), ("State", state or None)]
    else:  # change_auth / cancel_auth
        auth = suite.authorizations.get(params["corpid"])
        if auth is None:
            raise ValueError(f"corp {params['corpid']} never authorized suite {suite.suite_id}")
        if kind == "cancel_auth":
            auth.active = False
            sim.tokens.invalidate(corpid=auth.corpid, kind="suite_corp")
        items = head + [("InfoType", kind), ("TimeStamp", now), ("AuthCorpId", auth.corpid)]
    return Outgoing(_xml(items), suite.callback["token"], suite.callback["encoding_aes_key"], suite.suite_id,
                    suite.suite_id, "")


def _encrypt(out: Outgoing, text: str, timestamp: str, nonce: str) -> tuple[str, str]:
    """(Encrypt, msg_signature) for a text, computed by wechatpy, not by us."""
    crypto = WeChatCrypto(out.token, out.aes_key, out.receiveid)
    packed = ET.fromstring(crypto.encrypt_message(text, nonce, timestamp))
    return packed.findtext("Encrypt"), packed.findtext("MsgSignature")


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def deliver(out: Outgoing, target_url: str, timestamp: str, nonce: str | None = None) -> dict:
    """POST the encrypted callback to the target as WeCom does and report the target's answer."""
    nonce = nonce or str(secrets.randbelow(10**10))
    encrypt, signature = _encrypt(out, out.plaintext, timestamp, nonce)
    envelope = (f"<xml><ToUserName><![CDATA[{out.to_user}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"<AgentID><![CDATA[{out.agentid}]]></AgentID></xml>")
    url = _with_query(target_url, {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce})
    return post_envelope(url, envelope, {"url": url, "plaintext": out.plaintext, "receiveid": out.receiveid,
                                         "envelope": envelope})


def post_envelope(url: str, envelope: str, result: dict[str, Any]) -> dict[str, Any]:
    """POST an encrypted callback's XML envelope as WeCom (and WeChat) do; `result` with the target's answer added."""
    try:
        resp = requests.post(url, data=envelope.encode("utf-8"), headers={"Content-Type": "text/xml"},
                             timeout=DELIVERY_TIMEOUT)
        result.update(status=resp.status_code, body=resp.text)
    except requests.RequestException as exc:
        result.update(status=None, body=None, error=str(exc))
    return result


def verify_url(out: Outgoing, target_url: str, timestamp: str, nonce: str | None = None) -> dict:
    """WeCom's URL verification: GET with an encrypted echostr; the target must echo the plaintext exactly."""
    nonce = nonce or str(secrets.randbelow(10**10))
    echo_plain = str(secrets.randbelow(10**19))
    echostr, signature = _encrypt(out, echo_plain, timestamp, nonce)
    url = _with_query(target_url, {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce,
                                   "echostr": echostr})
    result: dict[str, Any] = {"url": url, "echostr_plain": echo_plain}
    try:
        resp = requests.get(url, timeout=DELIVERY_TIMEOUT)
        result.update(status=resp.status_code, body=resp.text, ok=resp.status_code == 200 and resp.text == echo_plain)
    except requests.RequestException as exc:
        result.update(status=None, body=None, ok=False, error=str(exc))
    return result


def verification_target(sim: "Simulator", params: dict) -> Outgoing:
    """Crypto parameters for verifying a corp's (receiveid corpid) or a suite's (receiveid suite_id) callback URL."""
    if params.get("suite_id") or (params.get("via") == "suite"):
        suite = sim.state.suite(params.get("suite_id"))
        return Outgoing("", suite.callback["token"], suite.callback["encoding_aes_key"],
                        params.get("receiveid") or suite.suite_id, suite.suite_id, "")
    corp = sim.state.corp(params.get("corpid"))
    return Outgoing("", corp.callback["token"], corp.callback["encoding_aes_key"],
                    params.get("receiveid") or corp.corpid, corp.corpid, "")
