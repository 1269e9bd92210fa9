"""The OAuth round trip as a browser makes it, for tests: begin (the authorize URL's state and the HttpOnly cookie the
answer sets), then exchange the code carrying both."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
# The local stage's public base URL: what the Chalice test client's requests see (it applies the stage's settings).
LOCAL_BASE = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"][
    "environment_variables"]["YQ_PUBLIC_BASE_URL"]


def _begin(client, path: str) -> tuple[dict, str]:
    reply = client.http.get(path)
    assert reply.status_code == 200, reply.body
    return json.loads(reply.body), reply.headers["Set-Cookie"].split(";", 1)[0]


def contact_round_trip(client, tenant_key: str, door: str) -> tuple[str, str]:
    """(state, cookie) for the external home's `door` (wechat | wecom), as login-options begins them."""
    options, cookie = _begin(client, f"/api/external/login-options?tenantKey={tenant_key}")
    state = parse_qs(urlsplit(options["wecomAuthorizeUrl"]).query)["state"][0]
    return door + state.removeprefix("wecom"), cookie


def member_round_trip(client, tenant) -> tuple[str, str]:
    """(state, cookie) for a member, as GET /api/auth/wecom/authorize-url begins them."""
    redirect = f"{tenant.settings.public_base_url or LOCAL_BASE}/workspace/"
    answer, cookie = _begin(client, f"/api/auth/wecom/authorize-url?tenantKey={tenant.tenant_key}"
                                    f"&redirectUri={quote(redirect, safe='')}")
    return answer["state"], cookie


def exchange(client, path: str, body: dict, state: str | None, cookie: str | None):
    headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})}
    return client.http.post(path, headers=headers, body=json.dumps({**body, **({"state": state} if state else {})}))
