"""What admins and 外部互联维护 holders do with contacts' accounts: assign one directly, disable and re-enable it,
issue a new activation link, reset it (admins only), look at it — each checked against the directory's rules and written to the contact's
audit trail (never a password or a link).

Who: the contact must be visible to the caller (404 `contact_not_found` otherwise, as everywhere in the directory);
the action then needs an admin or 外部互联维护 holder (403 `account_admin_required`). Looking at the account follows
the directory's account-information rule (adder, maintainers, 外部互联维护, admins).
"""
from __future__ import annotations

from chalicelib.accounts import service
from chalicelib.directory import audit, permissions
from chalicelib.core.errors import BadRequest, Forbidden
from chalicelib.auth.identity import Caller, require_admin
from chalicelib.store import tenants
from chalicelib.store.contacts import Contact
from chalicelib.directory.contacts import visible_contact

DELIVERIES = ("activation", "password")


def _visible(caller: Caller, contact_id: str) -> Contact:
    return visible_contact(caller, contact_id)


def _manageable(caller: Caller, contact_id: str) -> Contact:
    contact = _visible(caller, contact_id)
    if not caller.is_directory_maintainer:
        raise Forbidden("only admins and 外部互联维护 holders manage accounts", code="account_admin_required")
    return contact


def _status(contact: Contact) -> dict:
    return {"accountStatus": contact.account_status, "accountName": contact.account_name}


def assign(caller: Caller, contact_id: str, body: dict) -> dict:
    """Open the contact's account directly: a chosen or generated name, and an activation link or an initial
    password (which the contact must change at the first sign-in)."""
    contact = _manageable(caller, contact_id)
    delivery = body.get("delivery", "activation")
    if delivery not in DELIVERIES:
        raise BadRequest("delivery is 'activation' or 'password'", code="invalid_delivery")
    password = body.get("password")
    if delivery == "password" and not password:
        raise BadRequest("delivery 'password' needs the initial password", code="weak_password")
    if delivery == "activation" and password is not None:
        raise BadRequest("a password goes with delivery 'password' only", code="invalid_delivery")
    account_name = body.get("accountName")
    if account_name is not None and not isinstance(account_name, str):
        raise BadRequest("accountName must be a string", code="invalid_account_name")
    result = service.open_account(tenants.get_enabled_recent(caller.tenant_key), contact_id, actor=caller.user_id,
                                  account_name=account_name or None,
                                  initial_password=password if delivery == "password" else None)
    audit.record(caller.tenant_key, contact_id, caller.user_id, "account_assigned", _status(contact),
                 {"accountStatus": "opened", "accountName": result["accountName"], "delivery": delivery})
    return result


def disable(caller: Caller, contact_id: str) -> dict:
    contact = _manageable(caller, contact_id)
    result = service.disable(caller.tenant_key, contact_id)
    audit.record_if_changed(caller.tenant_key, contact_id, caller.user_id, "account_disabled", _status(contact),
                            {"accountStatus": "disabled", "accountName": result["accountName"]})
    return result


def enable(caller: Caller, contact_id: str) -> dict:
    contact = _manageable(caller, contact_id)
    result = service.enable(caller.tenant_key, contact_id)
    audit.record_if_changed(caller.tenant_key, contact_id, caller.user_id, "account_enabled", _status(contact),
                            {"accountStatus": "opened", "accountName": result["accountName"]})
    return result


def reissue_activation(caller: Caller, contact_id: str) -> dict:
    _manageable(caller, contact_id)
    result = service.reissue_activation(tenants.get_enabled_recent(caller.tenant_key), contact_id)
    audit.record(caller.tenant_key, contact_id, caller.user_id, "account_activation_issued", {},
                 {"accountName": result["accountName"], "activationExpiresAt": result["activationExpiresAt"]})
    return result


def reset(caller: Caller, contact_id: str) -> dict:
    """An admin's reset: the password is void at once, the contact's sessions end, and a new activation link is
    issued to hand over (admins only: it locks the contact out until they use the link)."""
    require_admin(caller)
    _manageable(caller, contact_id)
    result = service.reissue_activation(tenants.get_enabled_recent(caller.tenant_key), contact_id, void_password=True)
    audit.record(caller.tenant_key, contact_id, caller.user_id, "account_reset", {},
                 {"passwordVoided": True, "sessionsEnded": result["sessionsEnded"],
                  "activationExpiresAt": result["activationExpiresAt"]})
    return result


def account(caller: Caller, contact_id: str) -> dict:
    contact = _visible(caller, contact_id)
    if not permissions.can_see_account(caller, contact):
        raise Forbidden("you may not see this contact's account", code="account_hidden")
    return service.describe_account(caller.tenant_key, contact_id)
