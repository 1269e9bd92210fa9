"""A member binds their own personal WeChat: the one place Yunqiao learns a member's WeChat unionid.

WeCom never tells a corp which WeChat account belongs to which of its members: `user/get` carries no unionid, and
a customer record says nothing of the member it may be. A member's unionid can only come from the member, through
the tenant's official account's OAuth (scope snsapi_userinfo → openid and unionid), started from the member's own
signed-in session. Once bound, the customer sync and callbacks skip that WeChat account (`directory.customers`),
and a contact already made of it is set aside at once.
"""
from __future__ import annotations

from chalicelib.auth import oauth_state
from chalicelib.auth.identity import Caller
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.observability import logger
from chalicelib.directory import customers
from chalicelib.store import contacts as contact_store
from chalicelib.store import members as member_store
from chalicelib.store import tenants as tenant_store
from chalicelib.tenants import official_account


def authorize_url(caller: Caller, redirect_uri: str, visit: oauth_state.Visit) -> dict:
    """Where to send the member (in the WeChat client) to bind their WeChat, coming back to `redirect_uri` (the
    tenant's own origin) with `code` and the visit's `state`."""
    tenant = tenant_store.get_enabled(caller.tenant_key)  # uncached: an official account just connected counts
    redirect = oauth_state.check_redirect(tenant, redirect_uri)
    state = visit.state(oauth_state.MEMBER_WECHAT)
    url = official_account.authorize_url(tenant, redirect, state)
    if url is None:
        raise NotFound("this team has not connected a WeChat official account", code="wechat_not_configured")
    return {"url": url, "state": state}


def bind(caller: Caller, code: str) -> dict:
    """Bind the WeChat account the OAuth code stands for to the calling member; a customer contact of that WeChat
    account is set aside (inactive). A WeChat account bound to another member is refused (409)."""
    tenant = tenant_store.get_enabled(caller.tenant_key)  # uncached: an official account just connected counts
    unionid = official_account.oauth_identity(tenant, code).get("unionid")
    if not unionid:
        raise Conflict("WeChat did not say who you are across its apps (no unionid): the official account must be "
                       "bound to the team's WeChat Open Platform account", code="unionid_unavailable")
    holder = member_store.user_id_of_unionid(tenant.tenant_key, unionid)
    if holder is not None and holder != caller.user_id:
        raise Conflict("this WeChat account is bound to another member of the team", code="wechat_bound_elsewhere")
    member_store.set_unionid(tenant.tenant_key, caller.user_id, unionid)
    contact = contact_store.find_by_unionid(tenant.tenant_key, unionid)
    set_aside = bool(
        contact is not None and contact.external_userid and contact.source == contact_store.SOURCE_WECOM_CUSTOMER
        and customers.set_aside_member(tenant, contact.external_userid, customers.UNIONID, contact))
    logger.info("member bound their WeChat", extra={"setAside": set_aside})
    return {"wechatBound": True, "customerSetAside": contact.contact_id if set_aside else None}
