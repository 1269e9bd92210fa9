"""The OAuth round trip to WeChat / WeCom and back: the per-visit `state` that proves the browser coming back with a
code is the browser that left, and where the provider may send it back to.

Without it a link carrying someone else's code (`…/home?code=<theirs>&state=wecom`) signs a fresh browser in as
them: login CSRF. So every round trip starts at an endpoint that calls `begin()`, which answers

- `state` values for the authorize URLs: `<door><expiresAt><128 random bits, hex>` (WeChat allows only
  `[a-zA-Z0-9]`, at most 128 bytes, in `state`; the door — wechat | wecom | member | bind | reset | invite — stays a prefix, so the page
  still knows which exchange to call), and
- a `Set-Cookie` holding `<expiresAt><random>`: HttpOnly (page scripts cannot read or copy it), SameSite=Lax (sent
  on the top-level navigation back from the provider and on the page's own same-origin calls, never on another
  site's requests), Max-Age 10 minutes, and on deployed stages `Secure` under the `__Host-` prefix (no sibling
  subdomain can plant one).

The exchange endpoint calls `check()` *before* any code goes to WeChat / WeCom: the state must be for that door,
its random part must equal the cookie's (constant-time comparison) and it must not have expired; otherwise 403
`invalid_state`. Every exchange answer, success or refusal, carries `clear_cookie()`, so a state is good for one
exchange. Nothing is stored server-side: an anonymous page view costs no write, and the cookie, which an attacker
cannot set in someone else's browser, is the binding. (A state is not tied to a tenant: it proves which browser
started the trip, and the exchange still names its tenant.)
"""
from __future__ import annotations

import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from chalicelib.core import config
from chalicelib.core.errors import BadRequest, Forbidden
from chalicelib.store.tenants import Tenant
from chalicelib.tenants.urls import public_base_url
from chalicelib.wecom import oauth

WECHAT, WECOM, MEMBER = "wechat", "wecom", "member"
# The official account's other round trips: a signed-in contact binding their WeChat, a contact proving their WeChat
# to reset a forgotten password, and a WeChat friend accepting an invitation.
BIND, RESET, INVITE = "bind", "reset", "invite"
MEMBER_WECHAT = "memberwechat"  # a signed-in member binding their own WeChat (auth/member_wechat.py)
DOORS = (WECHAT, WECOM, MEMBER, BIND, RESET, INVITE, MEMBER_WECHAT)
STATE_SECONDS = 600
_VISIT = re.compile(r"^[0-9]{10}[0-9a-f]{32}$")


@dataclass(frozen=True)
class Visit:
    """One round trip begun: the cookie to set on the answer, and the state for each door's authorize URL."""

    token: str
    set_cookie: str

    def state(self, door: str) -> str:
        return f"{door}{self.token}"


def cookie_name() -> str:
    return "yq_oauth" if config.stage() == "local" else "__Host-yq_oauth"


def _cookie(value: str, max_age: int) -> str:
    secure = "" if config.stage() == "local" else "; Secure"  # the local stack is plain http on 127.0.0.1
    return f"{cookie_name()}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"


def begin() -> Visit:
    """A new round trip: fresh randomness, valid for `STATE_SECONDS`."""
    token = f"{int(time.time()) + STATE_SECONDS:010d}{secrets.token_hex(16)}"
    return Visit(token, _cookie(token, STATE_SECONDS))


def clear_cookie() -> str:
    """The Set-Cookie that ends the round trip (every exchange answer carries it)."""
    return _cookie("", 0)


def _cookie_value(headers: Mapping[str, str]) -> str:
    raw = next((value for key, value in headers.items() if key.lower() == "cookie"), "") or ""
    wanted = cookie_name()
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == wanted:
            return value.strip()
    return ""


def check(door: str, state: object, headers: Mapping[str, str]) -> None:
    """Refuse (403 `invalid_state`) unless `state` was issued for `door` to the browser sending `headers`, and has
    not expired. Call it before the code is exchanged."""
    held = _cookie_value(headers)
    given = state[len(door):] if isinstance(state, str) and state.startswith(door) else ""
    same = hmac.compare_digest(given.encode("utf-8"), held.encode("utf-8"))  # the length is no secret
    if not same or not _VISIT.match(held) or int(held[:10]) <= time.time():
        raise Forbidden("this sign-in was not started in this browser, or took too long: please start again",
                        code="invalid_state")


MAX_REDIRECT = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or port is None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _local_loopback(origin: tuple[str, str, int] | None) -> bool:
    """On the local stage the app itself runs on loopback under whatever port it was given (`make run`, the browser
    tests): a code sent back to this machine reaches no one else. Deployed stages never take this path."""
    return config.stage() == "local" and origin is not None and origin[0] == "http" \
        and origin[1] in ("127.0.0.1", "localhost")


def check_redirect(tenant: Tenant, redirect_uri: str) -> str:
    """`redirect_uri` if it lies on the tenant's own origin (scheme, host and port of its public base URL), else
    400 `invalid_redirect`: the OAuth code must never be handed to a page someone else controls."""
    wanted = _origin(public_base_url(tenant))
    clean = bool(redirect_uri) and len(redirect_uri) <= MAX_REDIRECT and redirect_uri.isprintable() \
        and " " not in redirect_uri and "\\" not in redirect_uri
    given = _origin(redirect_uri)
    if _local_loopback(given) and clean:
        return redirect_uri
    if not clean or wanted is None or given != wanted:
        raise BadRequest("redirectUri must be a page of this team's own site", code="invalid_redirect")
    return redirect_uri


def wecom_authorize_url(tenant: Tenant, redirect_uri: str, state: str) -> str:
    """WeCom's OAuth page (scope snsapi_base) for the tenant's corp and app, coming back to `redirect_uri`."""
    return oauth.authorize_url(tenant.corp_id, redirect_uri, scope="snsapi_base", state=state,
                               agentid=tenant.agent_id or "", page_base=config.wecom_login_base_url())


def wecom_qr_login_url(tenant: Tenant, redirect_uri: str, state: str) -> str:
    """WeCom's web login by QR code (扫码登录) for a desktop browser; the code it sends back is exchanged alike."""
    return oauth.qr_login_url(tenant.corp_id, tenant.agent_id or "", redirect_uri, state=state,
                              page_base=config.wecom_login_base_url())
