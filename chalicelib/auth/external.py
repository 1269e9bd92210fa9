"""Who is opening the external home: a visitor in WeChat (official-account OAuth → unionid), in WeCom (corp OAuth →
external_userid), or through the login form (`chalicelib.accounts`).

An OAuth identity becomes a contact session only when it matches a synced contact of that tenant: by unionid (the
contacts' `byUnion` index) for WeChat, by `wx-<external_userid>` for WeCom. Anyone else — a stranger, a contact of
another tenant, a member of the team — gets 404 `no_contact` and the page shows the login form; nobody is ever
given a session for a contact they were not matched to.
"""
from __future__ import annotations

from chalicelib.auth import oauth_state, sessions
from chalicelib.accounts.service import describe_contact
from chalicelib.core.errors import BadRequest, Forbidden, NotFound, Unauthorized
from chalicelib.core.observability import bind_tenant
from chalicelib.tenants import official_account
from chalicelib.store import accounts as account_store
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact
from chalicelib.profile_links.link import link_url
from chalicelib.wecom.errors import WeComApiError
from chalicelib.tenants.wecom_clients import client_for_tenant

WECHAT_OAUTH, WECOM_OAUTH = "wechat_oauth", "wecom_oauth"


def no_contact() -> NotFound:
    return NotFound("没有找到与您对应的外部联系人，请使用账号登录", code="no_contact")


def login_options(tenant_key: str, visit: oauth_state.Visit) -> dict:
    """How a visitor may sign in to the tenant's home: the OAuth pages to send them to (the page picks by the
    browser it runs in: WeChat or WeCom), each coming back to the home with `code` and `state` (the visit's state
    for that door: wechat… | wecom…)."""
    tenant = tenant_store.get_enabled(tenant_key or "")
    home = link_url(tenant)
    return {
        "tenant": {"tenantKey": tenant.tenant_key, "name": tenant.name},
        "wechatAuthorizeUrl": official_account.authorize_url(tenant, home, visit.state(oauth_state.WECHAT)),
        "wecomAuthorizeUrl": oauth_state.wecom_authorize_url(tenant, home, visit.state(oauth_state.WECOM)),
        "passwordLogin": True,
    }


def _tenant(tenant_key: str) -> tenant_store.Tenant:
    tenant = tenant_store.get_enabled(tenant_key or "")
    bind_tenant(tenant.tenant_key)
    return tenant


def _session_for(tenant: tenant_store.Tenant, contact: Contact, method: str) -> dict:
    """A contact session, unless the contact's account was disabled (which bars every way in)."""
    account = account_store.account_of(tenant.tenant_key, contact.contact_id)
    if account is not None and account.status == account_store.DISABLED:
        raise Forbidden("this account is disabled", code="account_disabled")
    issued = sessions.issue(tenant.tenant_key, sessions.CONTACT, contact.contact_id, method)
    return {"token": issued.token, "expiresAt": issued.expires_at, "mustChangePassword": False,
            "contact": describe_contact(contact), "method": method}


def sign_in_wechat(tenant_key: str, code: str) -> dict:
    """Official-account OAuth (scope snsapi_userinfo): the unionid names the contact; the openid is remembered so
    template messages can reach them."""
    tenant = _tenant(tenant_key)
    found = official_account.oauth_identity(tenant, code)
    unionid, openid = found.get("unionid"), found.get("openid")
    if not unionid:
        raise no_contact()
    contact = contact_store.find_by_unionid(tenant.tenant_key, unionid)
    if contact is None:
        raise no_contact()
    answer = _session_for(tenant, contact, WECHAT_OAUTH)
    if openid:
        shares.remember_openid(tenant.tenant_key, contact.contact_id, openid)
    return answer


def sign_in_wecom(tenant_key: str, code: str) -> dict:
    """WeCom OAuth: auth/getuserinfo names a non-member by external_userid, which is the synced contact's id."""
    tenant = _tenant(tenant_key)
    if not code or len(code) > 512:
        raise BadRequest("an OAuth code is required", code="invalid_code")
    try:
        who = client_for_tenant(tenant).oauth_user(code)
    except WeComApiError as err:
        raise Unauthorized(f"WeCom refused the code ({err.errcode})", code="oauth_failed") from err
    external_userid = who.get("external_userid")
    if who.get("userid") or who.get("UserId") or not external_userid:
        raise no_contact()
    contact = contact_store.get(tenant.tenant_key, contact_store.customer_contact_id(external_userid))
    if contact is None:
        raise no_contact()
    return _session_for(tenant, contact, WECOM_OAUTH)
