"""External accounts: opening one for a contact, activation, password sign-in, password change, disabling.

An account belongs to one contact of one tenant. It is opened by the approval workflow (`applications`) or assigned
directly by an admin or 外部互联维护 holder, with either
- an activation link (single use, expiring after `config.activation_seconds()`, only its hash stored) through which
  the contact chooses a password, or
- an initial password the admin hands over, which must be changed at the first sign-in: until then the contact's
  password sessions may only read `me`, change the password and sign out (`check_contact_session` enforces it).

Sign-in answers the same 401 `invalid_credentials` for an unknown name and a wrong password, after the same work
(the unknown path verifies against a dummy hash), behind anti-automation limits per name and source, per name, and per source (`throttle`). Only after
the right password is a disabled account told so (403 `account_disabled`).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from urllib.parse import quote

from chalicelib.core import clock, config
from chalicelib.auth import sessions
from chalicelib.accounts import apps, passwords, throttle
from chalicelib.directory import audit, contact_writes
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, Unauthorized
from chalicelib.store import accounts as store
from chalicelib.store import contacts as contact_store
from chalicelib.store import tenants
from chalicelib.store.contacts import ACCOUNT_DISABLED, ACCOUNT_NONE, ACCOUNT_OPENED, ACCOUNT_PENDING, Contact
from chalicelib.directory import contacts as directory
from chalicelib.directory import validation
from chalicelib.tenants import official_account
from chalicelib.tenants.urls import public_url
from chalicelib.notifications import queueing
from chalicelib.core.observability import logger

PASSWORD, ACTIVATION = "password", "activation"
PASSWORD_METHODS = (PASSWORD, ACTIVATION)  # sessions that prove knowledge of the account's password
ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{3,31}$")
NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: nothing to confuse when read out
GENERATED_NAME_CHARS = 10  # 50 random bits after the prefix
MAX_NAME_INPUT, MAX_PASSWORD_INPUT = 64, passwords.MAX_LENGTH
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
ACTIVATION_RETENTION = 30 * 24 * 3600  # how long a used or expired link is kept, to answer "used" rather than "invalid"
OPENABLE = (ACCOUNT_NONE, ACCOUNT_PENDING)


def new_account_name() -> str:
    """An unguessable account name: `yq` and ten random base32 characters."""
    return "yq" + "".join(secrets.choice(NAME_ALPHABET) for _ in range(GENERATED_NAME_CHARS))


def normalise_name(value: object) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def activation_url(tenant: tenants.Tenant, token: str) -> str:
    """The external page with the token in the fragment: browsers never send a fragment to a server or in a
    Referer, so the token stays out of access logs."""
    return public_url(tenant, f"/mobile/wechat/external/home?tenantKey={quote(tenant.tenant_key)}#activate={token}")


def _new_activation() -> tuple[str, str, int]:
    token = secrets.token_urlsafe(32)
    return token, _token_hash(token), int(clock.now()) + config.activation_seconds()


def _contact(tenant_key: str, contact_id: str) -> Contact:
    contact = contact_store.get(tenant_key, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id!r}", code="contact_not_found")
    return contact


def _account_exists(contact: Contact) -> Conflict:
    return Conflict(f"the contact has an account already (status {contact.account_status})", code="account_exists")


# --- opening ------------------------------------------------------------------------------------------------------
def open_account(tenant: tenants.Tenant, contact_id: str, *, actor: str, account_name: str | None = None,
                 initial_password: str | None = None) -> dict:
    """Open the contact's account: {"accountName", "activationUrl" (None with an initial password),
    "activationExpiresAt" (epoch seconds, None with an initial password)}.

    The contact must have none yet (accountStatus `none` or `pending`). A chosen name must be free in the tenant
    (409 `account_name_taken`); otherwise an unguessable one is generated. The name's claim, the account, its
    activation link and the contact's accountStatus `opened` are one transaction: a failure leaves nothing behind,
    and of two concurrent openings exactly one wins (the other gets 409 `account_exists`).
    """
    tenant_key = tenant.tenant_key
    contact = _contact(tenant_key, contact_id)
    if (contact.account_status or ACCOUNT_NONE) not in OPENABLE or store.account_of(tenant_key, contact_id):
        raise _account_exists(contact)
    chosen = None
    if account_name is not None:
        chosen = normalise_name(account_name)
        if not ACCOUNT_NAME.match(chosen):
            raise BadRequest("an account name has 4 to 32 characters: lower-case letters, digits, '.', '_', '-', "
                             "starting with a letter or digit", code="invalid_account_name")
    password_hash = None
    if initial_password is not None:
        if not isinstance(initial_password, str):
            raise BadRequest("the initial password must be a string", code="weak_password")
        # A generated name is not known yet; it is random, so a password cannot contain it by choice.
        passwords.check_policy(initial_password, chosen or "")
        password_hash = passwords.hash_password(initial_password)
    for _ in range(3):
        name = chosen or new_account_name()
        token, token_hash, expires_at = _new_activation() if password_hash is None else (None, None, None)
        if contact_writes.move_account_status(
            tenant_key, contact_id, ACCOUNT_OPENED, OPENABLE, account_name=name,
            transaction=lambda contact_side: store.create(
                tenant_key, contact_id, name, created_by=actor, password_hash=password_hash,
                activation=(token_hash, expires_at) if token_hash else None,
                retention_seconds=ACTIVATION_RETENTION, contact_write=contact_side),
        ):
            _tell_opened(tenant, contact, name, by_activation=token is not None)
            return {"accountName": name, "activationUrl": activation_url(tenant, token) if token else None,
                    "activationExpiresAt": expires_at}
        current = _contact(tenant_key, contact_id)
        if (current.account_status or ACCOUNT_NONE) not in OPENABLE or store.account_of(tenant_key, contact_id):
            raise _account_exists(current)
        if chosen:
            raise Conflict(f"the account name {chosen!r} is taken in this team", code="account_name_taken")
    raise Conflict("could not find a free account name; try again", code="account_name_taken")


def _tell_opened(tenant: tenants.Tenant, contact: Contact, account_name: str, *, by_activation: bool) -> None:
    """The contact hears of the new account in WeChat when they follow the official account: its name and how to sign
    in. The message links to their home, never to the activation link: that stays with whoever hands it over."""
    how = "请用对接人转给您的激活链接设置密码" if by_activation else "首次登录请使用对接人告知的初始密码"
    in_wechat = "在微信中点击即可进入与我协作；" if contact.unionid else ""
    home = public_url(tenant, f"/mobile/wechat/external/home?tenantKey={quote(tenant.tenant_key)}")
    notification = queueing.notify_contact(
        tenant, contact, first="您的协作账号已开通", title=f"账号 {account_name}", what="外部账号已开通",
        remark=f"{in_wechat}在浏览器中用账号 {account_name} 登录，{how}。", url=home, key=f"account:{account_name}")
    logger.info("account opening told to the contact", extra={"notification": notification})


def reissue_activation(tenant: tenants.Tenant, contact_id: str, *, void_password: bool = False) -> dict:
    """A new activation link for the contact's account (the earlier one stops working at once).

    For an account still awaiting activation whose link expired or was lost, or as a password reset for an active
    one: using the link sets a new password and ends every session of the contact. With `void_password` (an
    admin's reset, for a password thought known to someone else) the current password stops working now and every
    session of the contact ends now, not when the link is used.
    """
    account = store.account_of(tenant.tenant_key, contact_id)
    if account is None:
        raise NotFound("the contact has no account", code="account_not_found")
    if account.status == store.DISABLED:
        raise Conflict("the account is disabled; enable it first", code="account_disabled")
    token, token_hash, expires_at = _new_activation()
    if not store.replace_activation(tenant.tenant_key, contact_id, account.account_name, token_hash, expires_at,
                                    ACTIVATION_RETENTION, void_password=void_password):
        raise Conflict("the account changed meanwhile; try again", code="account_changed")
    issued = {"accountName": account.account_name, "activationUrl": activation_url(tenant, token),
              "activationExpiresAt": expires_at}
    if void_password:
        issued["sessionsEnded"] = sessions.revoke_all(tenant.tenant_key, sessions.CONTACT, contact_id)
    return issued


# --- disabling ----------------------------------------------------------------------------------------------------
def disable(tenant_key: str, contact_id: str) -> dict:
    """Disable the account and end every session of the contact. Disabling a disabled account is a no-op success
    that still ends sessions (a retry after a failure half-way converges)."""
    account = store.account_of(tenant_key, contact_id)
    if account is None:
        raise NotFound("the contact has no account", code="account_not_found")
    if account.status != store.DISABLED and not contact_writes.move_account_status(
        tenant_key, contact_id, ACCOUNT_DISABLED, (ACCOUNT_OPENED,),
        lambda contact_side: store.change_status(tenant_key, contact_id, store.DISABLED,
                                                 (store.ACTIVE, store.AWAITING_ACTIVATION), contact_write=contact_side),
    ):
        raise Conflict("the account changed meanwhile; try again", code="account_changed")
    ended = sessions.revoke_all(tenant_key, sessions.CONTACT, contact_id)
    return {"accountName": account.account_name, "status": store.DISABLED, "sessionsEnded": ended}


def enable(tenant_key: str, contact_id: str) -> dict:
    """Re-enable a disabled account as it was: active with its password, or awaiting activation."""
    account = store.account_of(tenant_key, contact_id)
    if account is None:
        raise NotFound("the contact has no account", code="account_not_found")
    restored = store.ACTIVE if account.password_hash else store.AWAITING_ACTIVATION
    if account.status == store.DISABLED and not contact_writes.move_account_status(
        tenant_key, contact_id, ACCOUNT_OPENED, (ACCOUNT_DISABLED,),
        lambda contact_side: store.change_status(tenant_key, contact_id, restored, (store.DISABLED,),
                                                 contact_write=contact_side),
    ):
        raise Conflict("the account changed meanwhile; try again", code="account_changed")
    return {"accountName": account.account_name, "status": restored if account.status == store.DISABLED
            else account.status}


def describe_account(tenant_key: str, contact_id: str) -> dict:
    """What the back office shows of a contact's account (never the hash)."""
    account = store.account_of(tenant_key, contact_id)
    if account is None:
        raise NotFound("the contact has no account", code="account_not_found")
    return {
        "accountName": account.account_name,
        "status": account.status,
        "mustChangePassword": bool(account.must_change_password),
        "passwordSet": bool(account.password_hash),
        "createdBy": account.created_by,
        "createdAt": _iso(account.created_at),
        "activatedAt": _iso(account.activated_at),
        "passwordChangedAt": _iso(account.password_changed_at),
        "disabledAt": _iso(account.disabled_at),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- signing in ---------------------------------------------------------------------------------------------------
def _invalid_credentials() -> Unauthorized:
    return Unauthorized("the account name or password is wrong", code="invalid_credentials")


def describe_contact(contact: Contact) -> dict:
    """The contact as the external user sees themself."""
    return {
        "contactId": contact.contact_id,
        "name": contact.name,
        "mobile": contact.mobile,
        "email": contact.email,
        "position": contact.position,
        "orgName": contact.org_name,
    }


def _session_answer(issued: sessions.Issued, contact: Contact, must_change: bool) -> dict:
    return {"token": issued.token, "expiresAt": issued.expires_at, "mustChangePassword": must_change,
            "contact": describe_contact(contact)}


def sign_in(tenant_key: str, account_name: object, password: object, source_ip: str) -> dict:
    """tenantKey + account + password → a contact session: {token, expiresAt, mustChangePassword, contact}."""
    if not isinstance(password, str) or not password or not normalise_name(account_name):
        raise BadRequest("account and password are required", code="invalid_body")
    tenant = tenants.get_enabled(tenant_key)
    name = normalise_name(account_name)[:MAX_NAME_INPUT]
    attempt = throttle.begin(tenant.tenant_key, name, source_ip)
    contact_id = store.contact_id_of_name(tenant.tenant_key, name)
    # Read an account item whether or not the name exists, so both paths cost the same reads.
    account = store.account_of(tenant.tenant_key, contact_id or "-")
    if account is None or not account.password_hash or account.account_name != name \
            or len(password) > MAX_PASSWORD_INPUT:
        passwords.verify_unknown(password[:MAX_PASSWORD_INPUT])
        raise _invalid_credentials()
    if not passwords.verify_password(password, account.password_hash):
        raise _invalid_credentials()
    throttle.succeeded(attempt)
    if account.status == store.DISABLED:
        raise Forbidden("this account is disabled", code="account_disabled")
    contact = contact_store.get(tenant.tenant_key, account.contact_id)
    if contact is None:
        raise _invalid_credentials()
    if passwords.needs_rehash(account.password_hash):
        store.rehash(tenant.tenant_key, account.contact_id, passwords.hash_password(password),
                     expected_hash=account.password_hash)
    issued = sessions.issue(tenant.tenant_key, sessions.CONTACT, account.contact_id, PASSWORD)
    return _session_answer(issued, contact, bool(account.must_change_password))


def activate(tenant_key: str, token: object, password: object) -> dict:
    """Set the account's password through its activation link, once, and sign the contact in.

    404 `activation_invalid` for a token that was never issued, 409 `activation_used`, 410 `activation_expired`
    (also when a newer link replaced it), 403 `account_disabled`; a weak password (400) leaves the link usable.
    Used as a password reset on an active account, it ends the contact's other sessions.
    """
    tenant = tenants.get_enabled(tenant_key)
    if not isinstance(token, str) or not TOKEN.match(token):
        raise NotFound("this activation link is not valid", code="activation_invalid")
    if not isinstance(password, str):
        raise BadRequest("a password is required", code="weak_password")
    token_hash = _token_hash(token)
    link = store.activation(tenant.tenant_key, token_hash)
    if link is None:
        raise NotFound("this activation link is not valid", code="activation_invalid")
    if link.used_at is not None:
        raise Conflict("this activation link was used already", code="activation_used")
    now = clock.now()
    if link.expires_at <= now:
        raise _expired()
    account = store.account_of(tenant.tenant_key, link.contact_id)
    if account is None or account.account_name != link.account_name:
        raise NotFound("this activation link is not valid", code="activation_invalid")
    if account.status == store.DISABLED:
        raise Forbidden("this account is disabled", code="account_disabled")
    if account.activation_hash != token_hash:
        raise _expired("a newer activation link replaced this one")
    passwords.check_policy(password, account.account_name)
    if not store.use_activation(tenant.tenant_key, link.contact_id, token_hash, passwords.hash_password(password),
                                now):
        raise Conflict("this activation link was used already", code="activation_used")
    if account.password_hash:  # a reset: whoever knew the old password is signed out everywhere
        sessions.revoke_all(tenant.tenant_key, sessions.CONTACT, link.contact_id)
    contact = _contact(tenant.tenant_key, link.contact_id)
    audit.record(tenant.tenant_key, link.contact_id, f"contact:{link.contact_id}", "account_activated",
                 {"accountStatus": account.status}, {"accountStatus": store.ACTIVE})
    issued = sessions.issue(tenant.tenant_key, sessions.CONTACT, link.contact_id, ACTIVATION)
    return _session_answer(issued, contact, False)


def _expired(message: str = "this activation link has expired") -> Gone:
    return Gone(f"{message}; ask for a new one", code="activation_expired")


# --- a signed-in contact ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContactCaller:
    """An external contact signed in to one tenant, through a password or activation session or an OAuth one."""

    tenant_key: str
    contact_id: str
    session_id: str
    method: str
    contact: Contact
    account_name: str | None
    must_change_password: bool
    password_set: bool = False


def contact_caller(session: sessions.SessionInfo, *, password_change_allowed: bool = False) -> ContactCaller:
    """The contact behind a contact session, its contact and account read one GetItem each and held to
    `check_contact_session` on every request."""
    account = store.account_of(session.tenant_key, session.subject)
    contact = contact_store.get(session.tenant_key, session.subject)
    return check_contact_session(session, contact, account, password_change_allowed=password_change_allowed)


def check_contact_session(session: sessions.SessionInfo, contact: Contact | None, account: store.AccountItem | None,
                          *, password_change_allowed: bool = False) -> ContactCaller:
    """Who may act as a contact, given the session and the contact and account rows already read: the session is a
    contact's (401 `contact_session_required`), the contact still exists and a password session still has its
    account (401 `invalid_session`), the account is not disabled (403 `account_disabled`), and a password session
    whose initial password must still be changed may only do that (403 `password_change_required`) unless
    `password_change_allowed`.

    It reads nothing, so each route reads the rows however its request budget allows (the home reads them in the
    same BatchGetItem as its summary) and still passes exactly these rules."""
    if session.kind != sessions.CONTACT:
        raise Unauthorized("this route needs an external contact's session", code="contact_session_required")
    if contact is None or (account is None and session.method in PASSWORD_METHODS):
        raise Unauthorized("sign in first: the session is missing, expired or revoked", code="invalid_session")
    must_change = False
    if account is not None:
        if account.status == store.DISABLED:
            raise Forbidden("this account is disabled", code="account_disabled")
        must_change = session.method in PASSWORD_METHODS and bool(account.must_change_password)
        if must_change and not password_change_allowed:
            raise Forbidden("change the initial password first", code="password_change_required")
    return ContactCaller(session.tenant_key, session.subject, session.session_id, session.method, contact,
                         account.account_name if account is not None else None, must_change,
                         bool(account is not None and account.password_hash))


def me(caller: ContactCaller) -> dict:
    """The signed-in contact's profile, their tenant, the apps open to them, and what their settings page shows:
    the account name, whether a password is set, and whether a WeChat is bound (`wechat.available`: the team has an
    official account to bind one through; `wechat.fromWeCom`: WeCom reports it for a customer, so it stays)."""
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    contact = caller.contact
    return {
        "contact": describe_contact(contact),
        "tenant": {"tenantKey": tenant.tenant_key, "name": tenant.name},
        "apps": apps.open_apps(caller.tenant_key),
        "accountName": caller.account_name,
        "mustChangePassword": caller.must_change_password,
        "passwordSet": caller.password_set,
        "wechat": {"bound": bool(contact.unionid), "available": official_account.app_id(tenant) is not None,
                   "fromWeCom": bool(contact.unionid and contact.wecom_customer and contact.external_userid)},
    }


def change_password(caller: ContactCaller, current_password: object, new_password: object, source_ip: str) -> dict:
    """Change the password (the current one proves it is the contact), clear a forced change, and end every other
    session of the contact. Wrong current passwords count like failed sign-ins from that source."""
    if not isinstance(current_password, str) or not isinstance(new_password, str) or not current_password:
        raise BadRequest("currentPassword and newPassword are required", code="invalid_body")
    account = store.account_of(caller.tenant_key, caller.contact_id)
    if account is None or not account.password_hash:
        raise Conflict("this contact has no password to change", code="no_password")
    attempt = throttle.begin(caller.tenant_key, account.account_name, source_ip)
    if len(current_password) > MAX_PASSWORD_INPUT or not passwords.verify_password(current_password,
                                                                                   account.password_hash):
        raise Forbidden("the current password is wrong", code="invalid_current_password")
    throttle.succeeded(attempt)
    passwords.check_policy(new_password, account.account_name)
    if new_password == current_password:
        raise BadRequest("the new password must differ from the current one", code="password_unchanged")
    if not store.set_password(caller.tenant_key, caller.contact_id, passwords.hash_password(new_password),
                              expected_hash=account.password_hash):
        raise Conflict("the password changed meanwhile; sign in again", code="account_changed")
    ended = sessions.revoke_all(caller.tenant_key, sessions.CONTACT, caller.contact_id,
                                keep_session_id=caller.session_id)
    audit.record(caller.tenant_key, caller.contact_id, f"contact:{caller.contact_id}", "account_password_changed",
                 {"mustChangePassword": bool(account.must_change_password)}, {"mustChangePassword": False})
    return {"mustChangePassword": False, "otherSessionsEnded": ended}


SELF_EDITABLE = ("name", "mobile", "email", "position")


def update_me(caller: ContactCaller, body: dict) -> dict:
    """The contact edits their own basic information (name, mobile, email, position), validated as the directory
    validates every contact write and recorded in its audit trail with actor `contact:<contactId>`. A WeCom
    customer's name and position come from WeCom (409 `field_synced`)."""
    changes = validation.contact_fields(body, creating=False, allowed=SELF_EDITABLE)
    contact = directory.apply_edit(caller.contact, changes, actor=f"contact:{caller.contact_id}")
    return me(replace(caller, contact=contact))
