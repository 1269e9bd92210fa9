"""The simulator core and its HTTP server.

`Simulator` holds the world and answers WeCom calls (faults → authentication → rate limit → handler → call log);
`make_server` puts it behind a stdlib ThreadingHTTPServer that also serves the /__sim__/ control API.
"""
from __future__ import annotations

import copy
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from . import app_shares, jssdk, official_account
from .api import ROUTES, SNS_ROUTES, Call, Route
from .calllog import CallLog
from .clock import SimClock
from .control import ROUTES as CONTROL_ROUTES
from .control import handle_control
from .errors import WeComError, error_body, wechat_error_body
from .limits import FaultTable, RateLimiter
from .login import PATHS as LOGIN_PATHS
from .login import handle_login
from .state import SimState
from .tokens import TokenStore

CGI_PREFIX = "/cgi-bin/"
CONTROL_PREFIX = "/__sim__/"
app_shares.register(ROUTES, CONTROL_ROUTES)


@dataclass
class Reply:
    """What the HTTP layer must do: answer (status, body), or drop the connection, after an optional delay."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    drop: bool = False
    latency: float = 0.0


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Simulator:
    """The simulated WeCom: state, tokens, limits, faults, clock and call log, reloadable from a scenario."""

    def __init__(self, scenario: dict, on_call: Callable[[dict], None] | None = None) -> None:
        self.clock = SimClock()
        self.lock = threading.RLock()
        self.calls = CallLog()
        self.faults = FaultTable()
        self.on_call = on_call
        self.load(scenario)

    def load(self, scenario: dict) -> None:
        """Replace the whole world with a scenario: tokens, limits, faults, log and clock start afresh."""
        with self.lock:
            self.clock.reset()
            self.state = SimState(copy.deepcopy(scenario), self.clock.now())
            self._scenario = copy.deepcopy(scenario)
            self.tokens = TokenStore()
            self.limiter = RateLimiter(self.state.settings)
            self.faults.clear()
            self.calls.clear()

    def reset(self) -> None:
        """Reload the scenario last loaded (tests call this between cases)."""
        self.load(self._scenario)

    def now(self) -> float:
        return self.clock.now()

    # --- answering WeCom calls -----------------------------------------------------------------------------------
    def handle_api(self, method: str, path: str, query: dict[str, str], raw_body: bytes, client_ip: str) -> Reply:
        """Answer one WeCom call (a /cgi-bin/ path or the /sns/ OAuth exchange) and record it."""
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode("utf-8", "replace")  # handlers answer 47001 for a non-JSON body
        api = path[len(CGI_PREFIX):] if path.startswith(CGI_PREFIX) else path
        call = Call(method=method, path=path, api=api, query=query, body=body, client_ip=client_ip)
        entry: dict[str, Any] = {"time": self.now(), "method": method, "path": path, "query": query, "body": body,
                                 "corpid": None, "errcode": None, "http_status": 200, "fault": None}
        with self.lock:
            fault = self.faults.take(path)
        reply = Reply(latency=fault.latency_ms / 1000 if fault else 0.0)
        route = (official_account.route_for(self, path, query) or SNS_ROUTES.get(path)
                 or (ROUTES.get(api) if path.startswith(CGI_PREFIX) else None))
        if fault and fault.drop:
            entry.update(fault="drop", http_status=None, corpid=self._guess_corp(call))
            reply.drop = True
        elif fault and fault.http_status:
            entry.update(fault="http_status", http_status=fault.http_status, corpid=self._guess_corp(call))
            reply.status, reply.content_type = fault.http_status, "text/html"
            reply.body = f"<html><body><h1>{fault.http_status}</h1></body></html>".encode()
        elif fault and fault.errcode is not None:
            entry.update(fault="errcode", errcode=fault.errcode, corpid=self._guess_corp(call))
            reply.body = _json_bytes(error_body(fault.errcode, client_ip))
        elif route is None:
            entry.update(http_status=404)
            reply.status, reply.content_type, reply.body = 404, "text/html", b"<html><body>404</body></html>"
        else:
            if fault:
                entry["fault"] = "latency"
            payload = self._dispatch(route, call)
            entry.update(corpid=call.corpid, errcode=payload.get("errcode", 0))
            reply.body = _json_bytes(payload)
        self.calls.add(entry)
        if self.on_call:
            self.on_call(entry)
        return reply

    def _guess_corp(self, call: Call) -> str | None:
        """Best-effort corp of a call that never reached authentication (for the call log only)."""
        token = self.tokens.lookup(call.query.get("access_token") or call.query.get("suite_access_token") or "")
        return token.corpid if token else call.query.get("corpid")

    def _dispatch(self, route: Route, call: Call) -> dict:
        is_sns = call.path in SNS_ROUTES or route in official_account.ROUTES.values()
        with self.lock:
            try:
                if route.auth == "corp":
                    self._authenticate(call)
                elif route.auth == "suite":
                    self._authenticate_suite(call)
                else:
                    body = call.body if isinstance(call.body, dict) else {}
                    call.corpid = call.query.get("corpid") or body.get("suite_id") or call.query.get("appid")
                if call.corpid and not self.limiter.hit(call.corpid, call.path, self.now()):
                    raise WeComError(45009)
                result = route.handler(self, call)
            except WeComError as exc:
                return wechat_error_body(exc.errcode) if is_sns else error_body(exc.errcode, call.client_ip, exc.detail)
        return result if is_sns else {"errcode": 0, "errmsg": "ok", **result}

    def _authenticate(self, call: Call) -> None:
        """Check access_token like WeCom: missing 41001, unknown 40014, superseded 40001, expired 42001, scope 48002."""
        value = call.query.get("access_token")
        if not value:
            raise WeComError(41001)
        token = self.tokens.lookup(value)
        if token is None or token.kind == "suite":
            raise WeComError(40014)
        call.corpid = token.corpid
        if token.invalidated:
            raise WeComError(40001)
        if token.expires_at <= self.now():
            raise WeComError(self.state.settings.expired_token_errcode)
        if not token.allows(call.api):
            raise WeComError(48002)
        call.token = token

    def _authenticate_suite(self, call: Call) -> None:
        """Check suite_access_token: missing 41022, unknown or superseded 40082, expired 42009."""
        value = call.query.get("suite_access_token")
        if not value:
            raise WeComError(41022)
        token = self.tokens.lookup(value)
        if token is None or token.kind != "suite":
            raise WeComError(40082)
        call.corpid = token.corpid
        if token.invalidated:
            raise WeComError(40082)
        if token.expires_at <= self.now():
            raise WeComError(42009)
        call.token = token


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so benchmarks are not dominated by connection set-up
    server_version = "WeComSim/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the 40 ms delayed-ACK stall
    sim: Simulator

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path.startswith(CONTROL_PREFIX):
            status, payload = handle_control(self.sim, method, parts.path[len(CONTROL_PREFIX):], query, raw)
            self._send(status, _json_bytes(payload), "application/json; charset=UTF-8")
            return
        if method == "GET" and parts.path in LOGIN_PATHS:
            status, headers, body = handle_login(self.sim, parts.path, query)
            self._send(status, body, headers.pop("Content-Type"), headers)
            return
        if parts.path.startswith(jssdk.PREFIX):
            status, headers, body = jssdk.handle(self.sim, method, parts.path, raw)
            self._send(status, body, headers.pop("Content-Type"), headers)
            return
        reply = self.sim.handle_api(method, parts.path, query, raw, self.client_address[0])
        if reply.latency:
            time.sleep(reply.latency)
        if reply.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply.status, reply.body, reply.content_type)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the stdlib's per-request stderr line; calls are logged as JSON through Simulator.on_call."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (and our own dropped connections) are normal here, not errors worth a traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            super().handle_error(request, client_address)


def make_server(sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server (not yet serving) bound to host:port (0 = any free port) answering for the simulator."""
    handler = type("SimHandler", (_Handler,), {"sim": sim})
    return _Server((host, port), handler)
