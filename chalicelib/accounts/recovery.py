"""A forgotten password (忘记密码): reset through the WeChat bound to the account, or ask the contact person.

The only proof Yunqiao can take from someone who forgot their password is a WeChat identity bound to the account
before (`accounts.binding`, or the unionid WeCom reports for a customer). So `options` tells the page whether the
team has an official account — then it begins an OAuth round trip with a per-visit `reset…` state — and otherwise
the page says to ask the contact person, whose team's admin resets the account (`accounts.admin.reset`: a new
activation link, the old password void).

`reset` exchanges the code: a WeChat bound to no contact of the team, or to a contact without an account, is 404
`wechat_not_bound` (the same answer, so nothing tells which); a disabled account 403 `account_disabled`. Otherwise
the account gets a new activation link (`service.reissue_activation`: the earlier link stops working; using it sets
the new password and ends every other session of the contact), handed to this browser only, and the reset is
recorded in the contact's audit trail (`password_reset_wechat`). The current password keeps working until the link
is used, so a reset begun and abandoned changes nothing.
"""
from __future__ import annotations

from chalicelib.accounts import service
from chalicelib.auth import oauth_state
from chalicelib.core.errors import Forbidden, NotFound
from chalicelib.core.observability import bind_tenant
from chalicelib.directory import audit
from chalicelib.profile_links.link import link_url
from chalicelib.store import accounts as account_store
from chalicelib.store import contacts as contact_store
from chalicelib.store import tenants
from chalicelib.tenants import official_account

RESET = "password_reset_wechat"
ASK_CONTACT_PERSON = "请联系您的对接人，由其团队管理员为您重置密码。"


def _not_bound() -> NotFound:
    return NotFound("this WeChat is not bound to an account of this team: ask your contact person, whose admin can "
                    "reset the password", code="wechat_not_bound")


def options(tenant_key: str, visit: oauth_state.Visit) -> dict:
    """How this team's contacts may reset a forgotten password: through WeChat (`wechatAuthorizeUrl`, back to the
    home page with the visit's `reset…` state) when it has an official account, and always by asking."""
    tenant = tenants.get_enabled(tenant_key or "")
    bind_tenant(tenant.tenant_key)
    return {"wechatAuthorizeUrl": official_account.authorize_url(tenant, link_url(tenant),
                                                                 visit.state(oauth_state.RESET)),
            "askContactPerson": ASK_CONTACT_PERSON}


def reset(tenant_key: str, code: str) -> dict:
    """The WeChat of the code proves the account: `{accountName, activationUrl, activationExpiresAt}`."""
    tenant = tenants.get_enabled(tenant_key or "")
    bind_tenant(tenant.tenant_key)
    unionid = official_account.oauth_identity(tenant, code).get("unionid")
    contact = contact_store.find_by_unionid(tenant.tenant_key, unionid) if unionid else None
    account = account_store.account_of(tenant.tenant_key, contact.contact_id) if contact is not None else None
    if account is None:
        raise _not_bound()
    if account.status == account_store.DISABLED:
        raise Forbidden("this account is disabled", code="account_disabled")
    issued = service.reissue_activation(tenant, contact.contact_id)
    audit.record(tenant.tenant_key, contact.contact_id, f"contact:{contact.contact_id}", RESET,
                 {"activationIssued": False}, {"activationIssued": True})
    return issued
