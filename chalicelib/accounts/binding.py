"""A contact binds their WeChat to their account (绑定微信), so that WeChat sign-in and WeChat messages reach them.

Binding is an official-account OAuth round trip begun by the signed-in contact (`begin`: the authorize URL with a
per-visit `bind…` state and its cookie, `chalicelib.auth.oauth_state`), coming back to the home page, which hands the
code to `bind`. The code is exchanged with WeChat (`tenants.official_account.oauth_identity`): its unionid becomes the
contact's (the `byUnion` index WeChat sign-in reads, `auth.external.sign_in_wechat`), its openid the one template
messages go to. The contact's write goes through the directory's one write path, in one transaction with a claim of
the unionid in the accounts table, so one WeChat binds one contact of a team at most (409 `wechat_in_use`); a WeChat
that is already some other contact's (a synced WeCom customer) is refused alike.

Unbinding clears both and ends the contact's other sessions, unless it would leave no way in: a contact without a
password (409 `password_required`), or one whose unionid WeCom reports for a customer (409 `wechat_from_wecom`: the
sync would bring it back). Both are recorded in the contact's audit trail (`wechat_bound`, `wechat_unbound`).
"""
from __future__ import annotations

from dataclasses import replace

from chalicelib.accounts.service import ContactCaller, me
from chalicelib.auth import oauth_state, sessions
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.directory import contacts as directory
from chalicelib.profile_links.link import link_url
from chalicelib.store import accounts as account_store
from chalicelib.store import contacts as contact_store
from chalicelib.store import shares
from chalicelib.store import tenants
from chalicelib.tenants import official_account

BOUND, UNBOUND = "wechat_bound", "wechat_unbound"


def _no_official_account() -> NotFound:
    return NotFound("this team has not connected a WeChat official account", code="wechat_not_configured")


def begin(caller: ContactCaller, visit: oauth_state.Visit) -> dict:
    """Where to send the contact to bind their WeChat: the official account's OAuth page, back to the home page
    with the visit's `bind…` state."""
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    url = official_account.authorize_url(tenant, link_url(tenant), visit.state(oauth_state.BIND))
    if url is None:
        raise _no_official_account()
    return {"url": url}


def bind(caller: ContactCaller, code: str) -> dict:
    """Exchange the code and bind the WeChat it names to the caller's contact; the answer is `me` afterwards.
    Binding the WeChat already bound is a success that changes nothing."""
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    found = official_account.oauth_identity(tenant, code)
    unionid, openid = found.get("unionid"), found.get("openid")
    if not unionid:
        raise Conflict("WeChat did not name this visitor's unionid: the official account is not linked to the "
                       "WeChat Open Platform", code="unionid_unavailable")
    contact = caller.contact
    if contact.unionid != unionid:
        if contact.unionid:
            raise Conflict("another WeChat is bound to this account: unbind it first", code="wechat_bound_already")
        holder = contact_store.find_by_unionid(tenant.tenant_key, unionid)
        if holder is not None and holder.contact_id != contact.contact_id:
            raise Conflict("this WeChat is bound to another contact of the team", code="wechat_in_use")
        contact = directory.set_wechat(
            contact, unionid, openid or contact.openid, actor=f"contact:{caller.contact_id}", action=BOUND,
            claim=lambda tx: account_store.claim_wechat_in(tx, tenant.tenant_key, unionid, contact.contact_id))
    if openid:
        shares.remember_openid(tenant.tenant_key, contact.contact_id, openid)
    return me(_with(caller, contact))


def unbind(caller: ContactCaller) -> dict:
    """Unbind the caller's WeChat: WeChat sign-in stops finding them, WeChat messages stop, other sessions end."""
    contact = caller.contact
    if not contact.unionid:
        raise Conflict("no WeChat is bound to this account", code="wechat_not_bound")
    if contact.wecom_customer and contact.external_userid:
        raise Conflict("this WeChat comes from the team's WeCom customer record and is kept in step by the sync",
                       code="wechat_from_wecom")
    account = account_store.account_of(caller.tenant_key, caller.contact_id)
    if account is None or not account.password_hash or account.status != account_store.ACTIVE:
        raise Conflict("without a password, unbinding WeChat would leave no way to sign in", code="password_required")
    unionid = contact.unionid
    contact = directory.set_wechat(
        contact, None, None, actor=f"contact:{caller.contact_id}", action=UNBOUND,
        claim=lambda tx: account_store.release_wechat_in(tx, caller.tenant_key, unionid, caller.contact_id))
    shares.forget_openid(caller.tenant_key, caller.contact_id)
    ended = sessions.revoke_all(caller.tenant_key, sessions.CONTACT, caller.contact_id,
                                keep_session_id=caller.session_id)
    return {**me(_with(caller, contact)), "otherSessionsEnded": ended}


def _with(caller: ContactCaller, contact: contact_store.Contact) -> ContactCaller:
    return replace(caller, contact=contact)
