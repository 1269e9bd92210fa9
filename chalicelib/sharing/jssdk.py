"""What the chat toolbar page gives `ww.register` (WeCom's JS-SDK): the corp, the app, and two signatures of the
page's own URL — the config signature with the corp's jsapi_ticket, the agent signature with the app's ticket.

Only the toolbar page on the tenant's own site is signed: a signature is what lets a page act in WeCom's client as the
tenant's app (read the chat's contact, send into the chat), so signing any URL a caller names would lend that to
pages someone else controls.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from chalicelib.auth import oauth_state
from chalicelib.auth.identity import Caller
from chalicelib.core import clock
from chalicelib.core.errors import AppError, BadRequest, Conflict, ServiceUnavailable
from chalicelib.core.observability import logger
from chalicelib.store import tenants as tenant_store
from chalicelib.tenants import urls
from chalicelib.tenants.wecom_clients import jsapi_tickets
from chalicelib.wecom import jsapi
from chalicelib.wecom.errors import WeComApiError, WeComError

TOOLBAR_PATH = "/directory/toolbar"
JS_API_LIST = ("getContext", "getCurExternalContact", "getCurExternalChat", "getCurCorpGroupContact",
               "sendChatMessage")


def _check_page(tenant: tenant_store.Tenant, url: str) -> str:
    """The URL to sign: the toolbar page on the tenant's own site (its public base URL; loopback on the local stage),
    without its fragment. 400 `invalid_page_url` otherwise."""
    page = jsapi.signed_url(url or "")
    refusal = BadRequest(f"url must be the chat toolbar page of this team's own site "
                         f"({urls.public_url(tenant, TOOLBAR_PATH)}?tenantKey=…), without anything else",
                         code="invalid_page_url")
    try:
        oauth_state.check_redirect(tenant, page)
    except AppError:
        raise refusal from None
    base_path = urlsplit(urls.public_base_url(tenant)).path.rstrip("/")
    path = urlsplit(page).path
    if path not in (base_path + TOOLBAR_PATH, TOOLBAR_PATH):
        raise refusal
    return page


def register_config(caller: Caller, url: str) -> dict:
    """`{corpId, agentId, url, timestamp, nonceStr, signature, agentSignature, jsApiList}` for the page at `url`."""
    tenant = tenant_store.get_enabled_recent(caller.tenant_key)
    page = _check_page(tenant, url)
    if not tenant.agent_id:
        raise Conflict("this team has no WeCom app to sign the toolbar with: an admin sets the app's AgentId first",
                       code="no_wecom_app")
    tickets = jsapi_tickets(tenant)
    try:
        corp_ticket, agent_ticket = tickets.corp_ticket(), tickets.agent_ticket()
    except WeComApiError as err:
        logger.warning("jsapi ticket refused by WeCom", extra={"errcode": err.errcode, "path": err.path})
        raise ServiceUnavailable("WeCom did not hand out the JS-SDK ticket: try again later",
                                 code="wecom_unavailable") from err
    except WeComError as err:
        raise ServiceUnavailable("WeCom did not answer: try again later", code="wecom_unavailable") from err
    timestamp = int(clock.now())
    nonce = secrets.token_urlsafe(12)
    return {
        "corpId": tenant.corp_id,
        "agentId": tenant.agent_id,
        "url": page,
        "timestamp": timestamp,
        "nonceStr": nonce,
        "signature": jsapi.signature(corp_ticket, nonce, timestamp, page),
        "agentSignature": jsapi.signature(agent_ticket, nonce, timestamp, page),
        "jsApiList": list(JS_API_LIST),
    }
