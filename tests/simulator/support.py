"""Shared helpers for the simulator tests: the demo scenario's constants, a tiny WeCom HTTP client, a callback sink."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

try:
    from wechatpy.work.crypto import WeChatCrypto
    from wechatpy.work.exceptions import InvalidCorpIdException
except ImportError:
    from wechatpy.enterprise.crypto import WeChatCrypto
    from wechatpy.enterprise.exceptions import InvalidCorpIdException

DEMO_PATH = Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json"
CORPID = "wwdemo0001"
CORPID2 = "wwdemo0002"
CONTACTS_SECRET = "demo-contacts-secret-0001"
EXTERNAL_SECRET = "demo-externalcontact-secret-0001"
APP_SECRET = "demo-app-secret-0001"
AGENTID = 1000002
SUITE_ID = "wwsuitedemo0001"
SUITE_SECRET = "demo-suite-secret-0001"
SUITE_TICKET = "demo-suite-ticket-0001"
AUTH_CODE = "demo-auth-code-0001"
PERMANENT_CODE = "demo-permanent-code-0002"
OA_APPID = "wxdemooa00000001"
OA_SECRET = "demo-oa-secret-0001"


class WeComHTTP:
    """What our client does on the wire, minimally: GET/POST a /cgi-bin/ API and decode the JSON."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, api: str, **params: object) -> dict:
        return self.http.get(f"{self.base_url}/cgi-bin/{api}", params=params, timeout=10).json()

    def post(self, api: str, body: object, **params: object) -> dict:
        return self.http.post(f"{self.base_url}/cgi-bin/{api}", params=params, json=body, timeout=10).json()

    def token(self, secret: str = CONTACTS_SECRET, corpid: str = CORPID) -> str:
        answer = self.get("gettoken", corpid=corpid, corpsecret=secret)
        assert answer["errcode"] == 0, answer
        return answer["access_token"]

    def suite_token(self) -> str:
        answer = self.post("service/get_suite_token",
                           {"suite_id": SUITE_ID, "suite_secret": SUITE_SECRET, "suite_ticket": SUITE_TICKET})
        assert answer["errcode"] == 0, answer
        return answer["suite_access_token"]


class CallbackSink:
    """Stands in for our callback endpoint: records every request, answers POSTs with a fixed body and
    URL verifications by decrypting echostr with the configured crypto (or with a deliberately wrong answer)."""

    def __init__(self, post_answer: str = "success") -> None:
        self.requests: list[dict] = []
        self.post_answer = post_answer
        self.crypto: WeChatCrypto | None = None
        self.echo_suffix = ""
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sink.requests.append({"method": "POST", "path": self.path, "body": self.rfile.read(length).decode(),
                                      "content_type": self.headers.get("Content-Type")})
                self._answer(sink.post_answer)

            def do_GET(self) -> None:
                sink.requests.append({"method": "GET", "path": self.path})
                q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                plain = sink.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
                self._answer(plain + sink.echo_suffix)

            def _answer(self, text: str) -> None:
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/callback"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def last_query(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.requests[-1]["path"]).query).items()}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
