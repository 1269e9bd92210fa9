"""Start the simulator in-process for tests and the local stack, and drive it through its control API.

The control client goes over HTTP (not straight into the Simulator object) so tests exercise the same interface the
local stack and other processes use.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import requests

from .server import Simulator, make_server


class ControlClient:
    """A small requests-based client for /__sim__/; every method returns the decoded JSON answer."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None) -> Any:
        resp = self._http.request(method, f"{self.base_url}/__sim__/{path}", timeout=self.timeout,
                                  params={k: v for k, v in (params or {}).items() if v is not None},
                                  json=json_body)
        payload = resp.json()
        if resp.status_code != 200:
            raise SimulatorControlError(resp.status_code, payload.get("error", ""))
        return payload

    # scenario and log
    def load_scenario(self, scenario: dict) -> dict:
        return self._call("POST", "scenario", json_body=scenario)

    def reset(self) -> dict:
        return self._call("POST", "reset")

    def calls(self, path: str | None = None, corpid: str | None = None, errcode: int | None = None) -> list[dict]:
        return self._call("GET", "calls", params={"path": path, "corpid": corpid, "errcode": errcode})["calls"]

    def reset_calls(self) -> dict:
        return self._call("DELETE", "calls")

    # misbehaviour
    def set_fault(self, path: str, *, latency_ms: int = 0, http_status: int | None = None,
                  errcode: int | None = None, drop: bool = False, times: int | None = None) -> dict:
        return self._call("POST", "faults", json_body={"path": path, "latency_ms": latency_ms,
                                                        "http_status": http_status, "errcode": errcode,
                                                        "drop": drop, "times": times})

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["faults"]

    def clear_faults(self, path: str | None = None) -> dict:
        return self._call("DELETE", "faults", params={"path": path})

    def set_rate_limit(self, per_minute: int, *, corpid: str | None = None, path: str | None = None,
                       per_hour: int | None = None, block_seconds: int | None = None) -> dict:
        return self._call("POST", "rate_limits", json_body={"per_minute": per_minute, "corpid": corpid, "path": path,
                                                             "per_hour": per_hour, "block_seconds": block_seconds})

    def clear_rate_limits(self) -> dict:
        return self._call("DELETE", "rate_limits")

    def settings(self, **values: Any) -> dict:
        """Read the settings, or update them when keyword arguments are given."""
        if values:
            return self._call("POST", "settings", json_body=values)
        return self._call("GET", "settings")

    # tokens and time
    def invalidate_tokens(self, corpid: str | None = None, token: str | None = None, all: bool = False) -> int:
        body = {"corpid": corpid, "token": token, "all": all}
        return self._call("POST", "tokens/invalidate", json_body=body)["invalidated"]

    def tokens(self, corpid: str | None = None) -> list[dict]:
        return self._call("GET", "tokens", params={"corpid": corpid})["tokens"]

    def now(self) -> float:
        return self._call("GET", "clock")["now"]

    def advance_clock(self, seconds: float) -> float:
        return self._call("POST", "clock/advance", json_body={"seconds": seconds})["now"]

    # the directory
    def member(self, userid: str, corpid: str | None = None) -> dict:
        return self._call("GET", "member", params={"userid": userid, "corpid": corpid})

    def rename_corp(self, corpid: str, corp_name: str, corp_full_name: str | None = None) -> dict:
        return self._call("POST", "corp", json_body={"corpid": corpid, "corp_name": corp_name,
                                                     "corp_full_name": corp_full_name or corp_name})

    def add_member(self, member: dict, corpid: str | None = None) -> dict:
        return self._call("POST", "members", json_body={"member": member, "corpid": corpid})

    def remove_member(self, userid: str, corpid: str | None = None) -> dict:
        return self._call("DELETE", "members", params={"userid": userid, "corpid": corpid})

    def customer(self, external_userid: str, corpid: str | None = None) -> dict:
        return self._call("GET", "customer", params={"external_userid": external_userid, "corpid": corpid})

    def add_customer(self, customer: dict, corpid: str | None = None) -> dict:
        return self._call("POST", "customers", json_body={"customer": customer, "corpid": corpid})

    def remove_customer(self, external_userid: str, userid: str | None = None, corpid: str | None = None) -> dict:
        return self._call("DELETE", "customers",
                          params={"external_userid": external_userid, "userid": userid, "corpid": corpid})

    def add_chain_corp(self, chain_id: str, corp: dict, corpid: str | None = None) -> dict:
        return self._call("POST", "chain_corps", json_body={"chain_id": chain_id, "corp": corp, "corpid": corpid})

    def remove_chain_corp(self, chain_id: str, chain_corpid: str, corpid: str | None = None) -> dict:
        return self._call("DELETE", "chain_corps",
                          params={"chain_id": chain_id, "chain_corpid": chain_corpid, "corpid": corpid})

    # apps shared with downstream corps (上下游)
    def add_app_share(self, share: dict, corpid: str | None = None) -> dict:
        """Share the upstream corp's app `share["agentid"]` with `share["corpid"]` (see app_shares.py)."""
        return self._call("POST", "app_shares", json_body={"share": share, "corpid": corpid})

    def remove_app_share(self, share_corpid: str, agentid: int, corpid: str | None = None) -> dict:
        return self._call("DELETE", "app_shares",
                          params={"share_corpid": share_corpid, "agentid": agentid, "corpid": corpid})

    def add_share_member(self, share_corpid: str, agentid: int, member: dict, corpid: str | None = None) -> dict:
        """Add or change a downstream member, visible to the shared app."""
        return self._call("POST", "app_shares/members", json_body={"share_corpid": share_corpid, "agentid": agentid,
                                                                   "member": member, "corpid": corpid})

    # OAuth, messages, callbacks
    def mint_oauth_code(self, **params: Any) -> str:
        """userid=... or external_userid=... (WeCom OAuth), or appid=... (official account); returns the code."""
        return self._call("POST", "oauth/code", json_body=params)["code"]

    def messages(self, touser: str | None = None, corpid: str | None = None) -> list[dict]:
        return self._call("GET", "messages", params={"touser": touser, "corpid": corpid})["messages"]

    def push(self, kind: str, target_url: str, **ids: Any) -> dict:
        """Push a callback of this kind to the target; returns the target's status and body (see README)."""
        return self._call("POST", "push", json_body={"kind": kind, "target_url": target_url, **ids})

    def verify_url(self, target_url: str, **params: Any) -> dict:
        return self._call("POST", "verify", json_body={"target_url": target_url, **params})

    # the official account (WeChat)
    def set_oa_follower(self, openid: str, subscribe: bool = True, unionid: str | None = None,
                        appid: str | None = None) -> dict:
        return self._call("POST", "oa/followers", json_body={"openid": openid, "subscribe": 1 if subscribe else 0,
                                                              "unionid": unionid, "appid": appid})

    def template_messages(self, touser: str | None = None, appid: str | None = None) -> list[dict]:
        return self._call("GET", "oa/messages", params={"touser": touser, "appid": appid})["messages"]

    def oa_push(self, kind: str, openid: str, target_url: str, **params: Any) -> dict:
        """A follow (`subscribe`, with `scene` for a QR code), `unsubscribe` or `SCAN`: applied to the account, then
        pushed encrypted to the target; returns the target's status and body."""
        return self._call("POST", "oa/push", json_body={"kind": kind, "openid": openid, "target_url": target_url,
                                                         **params})

    def oa_verify_url(self, target_url: str, **params: Any) -> dict:
        return self._call("POST", "oa/verify", json_body={"target_url": target_url, **params})

    # the JS-SDK (jssdk.py) and customer groups (groupchats.py)
    def verify_signature(self, url: str, noncestr: str, timestamp: int | str, signature: str,
                         corpid: str | None = None, agentid: int | str | None = None) -> dict:
        """WeCom's client's check of a page's signature: `{valid, reason}` (agentid given: the agent signature)."""
        return self._call("POST", "jssdk/verify", json_body={"url": url, "noncestr": noncestr, "timestamp": timestamp,
                                                             "signature": signature, "corpid": corpid,
                                                             "agentid": agentid})

    def jsapi_tickets(self, corpid: str | None = None) -> list[dict]:
        return self._call("GET", "jssdk/tickets", params={"corpid": corpid})["tickets"]

    def play_chat(self, entry: str, **ids: Any) -> dict:
        """The chat the stand-in `ww` plays: external_userid=, chat_id=, or corpid= + userid= (上下游)."""
        return self._call("POST", "jssdk/chat", json_body={"entry": entry, **ids})

    def add_group_chat(self, group_chat: dict, corpid: str | None = None) -> dict:
        return self._call("POST", "group_chats", json_body={"group_chat": group_chat, "corpid": corpid})["group_chat"]


class SimulatorControlError(Exception):
    """The control API refused a request (HTTP 400/404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class RunningSimulator:
    """A simulator serving on a background thread."""

    def __init__(self, simulator: Simulator, server: Any, thread: threading.Thread) -> None:
        self.simulator = simulator
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.control = ControlClient(self.base_url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "RunningSimulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def load_scenario_file(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def start_simulator(scenario: dict | str | Path, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    """Start a simulator for a scenario (a dict or a JSON file path) on host:port (0 = a free port)."""
    data = scenario if isinstance(scenario, dict) else load_scenario_file(scenario)
    sim = Simulator(data)
    server = make_server(sim, host, port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="wecom-sim", daemon=True)
    thread.start()
    return RunningSimulator(sim, server, thread)
