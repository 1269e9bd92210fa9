"""Invite a WeChat friend (邀请微信好友): a member creates a link (and its QR code); whoever opens it in WeChat fills
in their name and details, and becomes an external contact with the inviting member as adder.

The link is `{base}/mobile/wechat/external/invite?tenantKey=<t>&token=<token>`; the token is signed and expiring
(`tokens`), the invitation item holds its state. Use is single: accepting moves the item `open → accepting` with a
conditional write (a short lease), creates the contact through the directory (`create_contact`, validated like any
other contact), then `accepting → accepted`. The input is validated before the link is touched, and a contact that
cannot be created hands the lease back (`accepting → open`), so bad input never burns a link; a second acceptance
meets the state, not a race. An acceptor that crashes mid-way leaves a lease that lapses after `LEASE_SECONDS`.

Refusals: a token that is malformed, forged, tampered with, for an unknown invitation or for another tenant → 404
`invitation_invalid` (indistinguishable, so nothing leaks); genuine but expired → 410 `invitation_expired`;
revoked → 410 `invitation_revoked`; already used → 409 `invitation_used`.

Where the team has a WeChat official account, the friend accepts through its OAuth: the preview hands the page the
authorize URL (a per-visit `invite…` state, `auth.oauth_state`), which comes back to the invitation link with a code;
`identify` exchanges it and answers a signed identity (`tokens.WECHAT_IDENTITY`: this tenant, this invitation, the
openid and unionid, valid `IDENTITY_SECONDS`), which `accept` takes as `wechat`. The new contact then carries that
openid and unionid (bound like a contact binding it in their settings, `accounts.binding`), and the answer carries a
contact session, so the friend enters 与我协作 at once. A WeChat that is already a contact of the team is told so
(409 `already_contact`) instead of becoming a second contact.
"""
from __future__ import annotations

import io
import secrets
from datetime import timedelta
from urllib.parse import quote, urlencode

from chalicelib.notifications import queueing
from chalicelib.core import clock, config, cursors
from chalicelib.directory import contacts as directory
from chalicelib.directory import validation
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, TenantNotFound, Unauthorized
from chalicelib.auth import oauth_state, sessions
from chalicelib.auth.external import WECHAT_OAUTH
from chalicelib.auth.identity import Caller
from chalicelib.invitations import notes, tokens
from chalicelib.core.observability import logger
from chalicelib.store import accounts as account_store
from chalicelib.store import invitations as store
from chalicelib.store import shares
from chalicelib.store import contacts as contact_store
from chalicelib.store import members as member_store
from chalicelib.store import tenants
from chalicelib.store.contacts import SOURCE_INVITATION, Contact
from chalicelib.store.tenants import Tenant
from chalicelib.tenants import official_account
from chalicelib.tenants.urls import public_url

LEASE_SECONDS = 60
MAX_DAYS = 30
PAGE_DEFAULT, PAGE_MAX = 20, 100
CREATE_FIELDS = ("organisationId", "departmentId", "note", "expiresInDays")
# What the person accepting may tell about themselves; the rest of the contact is the inviter's.
ACCEPT_FIELDS = ("name", "mobile", "email", "position")
INVITE_PATH = "/mobile/wechat/external/invite"
IDENTITY_SECONDS = 30 * 60  # time to fill in the form after WeChat's OAuth


def new_invitation_id() -> str:
    """Time-ordered (milliseconds, hex) so a member's list reads newest first, then unguessable."""
    return f"wx{int(clock.now() * 1000):012x}{secrets.token_hex(8)}"


def link(tenant: Tenant, item: store.InvitationItem) -> str:
    """The invitation link. The token is derived from the item (same key, same claims), so it is never stored."""
    token = tokens.sign(tokens.WECHAT_LINK, {"t": tenant.tenant_key, "i": item.invitation_id},
                        int(item.expires_at.timestamp()))
    return public_url(tenant, f"{INVITE_PATH}?{urlencode({'tenantKey': tenant.tenant_key, 'token': token})}")


def qr_code_png(text: str) -> bytes:
    """A QR code of `text` as a PNG (error correction M, 8 pixels a module, the standard 4-module quiet zone)."""
    import segno  # deferred: only this route draws QR codes, and segno is slow to import on a cold start

    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def status_of(item: store.InvitationItem) -> str:
    if item.status == store.OPEN and item.expires_at <= clock.utcnow():
        return "expired"
    return item.status


def describe(tenant: Tenant, item: store.InvitationItem) -> dict:
    """The invitation as its inviter sees it; the link and QR code only while it can still be used."""
    status = status_of(item)
    data = {
        "invitationId": item.invitation_id,
        "status": status,
        "inviterId": item.inviter_id,
        "organisationId": item.organisation_id,
        "departmentId": item.department_id,
        "note": item.note,
        "createdAt": item.created_at.isoformat(),
        "expiresAt": item.expires_at.isoformat(),
        "acceptedAt": item.decided_at.isoformat() if item.decided_at and item.status == store.ACCEPTED else None,
        "contactId": item.contact_id,
        "link": None,
        "qrCodeUrl": None,
    }
    if status == store.OPEN:
        data["link"] = link(tenant, item)
        data["qrCodeUrl"] = f"/api/directory/invitations/{quote(item.invitation_id)}/qrcode.png"
    return data


# --- the inviting member -----------------------------------------------------------------------------------------
def _days(value: object) -> int:
    if value is None:
        return config.invitation_days()
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise BadRequest(f"expiresInDays must be a whole number of days between 1 and {MAX_DAYS}",
                         code="invalid_expiry")
    return value


def create(caller: Caller, body: dict) -> dict:
    """A new invitation link for the caller, optionally filing the future contact under an organisation or
    department of the directory (checked now, so the inviter hears about a wrong one at once)."""
    validation.check_fields(body, CREATE_FIELDS)
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    place = directory.placement(tenant.tenant_key, body.get("organisationId") or None,
                                body.get("departmentId") or None)
    stamp = clock.utcnow()
    expires = stamp + timedelta(days=_days(body.get("expiresInDays")))
    invitation_id = new_invitation_id()
    item = store.InvitationItem(
        tenant.tenant_key,
        store.item_key(store.WECHAT, invitation_id),
        owner_key=store.owner_key(tenant.tenant_key, caller.user_id),
        invitation_id=invitation_id,
        kind=store.WECHAT,
        status=store.OPEN,
        tenant_key=tenant.tenant_key,
        inviter_id=caller.user_id,
        organisation_id=place.organisation_id,
        department_id=place.department_id,
        note=notes.note(body.get("note")),
        expires_at=expires,
        created_at=stamp,
        ttl=expires + store.KEEP_AFTER_EXPIRY,
    )
    store.create_wechat(item)
    return describe(tenant, item)


def _mine(caller: Caller, invitation_id: str) -> store.InvitationItem:
    """The caller's own invitation; anyone else's (or none) is 404 alike."""
    item = store.get(caller.tenant_key, store.WECHAT, invitation_id) if 0 < len(invitation_id) <= 64 else None
    if item is None or item.inviter_id != caller.user_id:
        raise NotFound("no such invitation", code="invitation_not_found")
    return item


def get_mine(caller: Caller, invitation_id: str) -> dict:
    return describe(tenants.get_enabled_recent(caller.tenant_key), _mine(caller, invitation_id))


def list_mine(caller: Caller, cursor: str | None, limit: int = PAGE_DEFAULT) -> dict:
    """The caller's invitation links, newest first (one Query on `byOwner`)."""
    owner = store.owner_key(caller.tenant_key, caller.user_id)
    start = cursors.decode(cursor, {"ownerKey": owner, "pk": caller.tenant_key}, ("sk",))
    items, last = store.owned(caller.tenant_key, caller.user_id, store.WECHAT, limit, start)
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    return {"invitations": [describe(tenant, item) for item in items], "nextCursor": cursors.encode(last)}


def revoke(caller: Caller, invitation_id: str) -> dict:
    """Withdraw an unused link: it stops working at once (410 `invitation_revoked`)."""
    item = _mine(caller, invitation_id)
    if not store.revoke_wechat(caller.tenant_key, item.invitation_id):
        _refuse(store.get(caller.tenant_key, store.WECHAT, item.invitation_id))
    return get_mine(caller, invitation_id)


def qr_code(caller: Caller, invitation_id: str) -> bytes:
    """The PNG QR code of the caller's invitation link, while the link can be used."""
    item = _mine(caller, invitation_id)
    _check_usable(item)
    return qr_code_png(link(tenants.get_enabled_recent(caller.tenant_key), item))


# --- the person invited (public: no session) ---------------------------------------------------------------------
def _invalid() -> NotFound:
    return NotFound("this invitation link is not valid", code="invitation_invalid")


def _refuse(item: store.InvitationItem | None) -> None:
    """Raise what an invitation that cannot be used (any more) answers."""
    if item is None:
        raise _invalid()
    if item.status in (store.ACCEPTED, store.ACCEPTING):
        raise Conflict("this invitation has already been used", code="invitation_used")
    if item.status == store.REVOKED:
        raise Gone("the member withdrew this invitation", code="invitation_revoked")
    raise Gone("this invitation has expired: ask for a new one", code="invitation_expired")


def _check_usable(item: store.InvitationItem) -> None:
    if item.status != store.OPEN or item.expires_at <= clock.utcnow():
        _refuse(item)


def _resolve(tenant_key: object, token: object) -> tuple[Tenant, store.InvitationItem]:
    """The tenant and the open invitation a link names, or the refusal the module docstring lists."""
    if not isinstance(tenant_key, str) or not isinstance(token, str) or not tenant_key or not token:
        raise BadRequest("tenantKey and token are required", code="invalid_invitation_request")
    try:
        claims = tokens.verify(token, tokens.WECHAT_LINK)
    except tokens.ExpiredToken as expired:
        if expired.claims.get("t") != tenant_key:
            raise _invalid() from None
        raise Gone("this invitation has expired: ask for a new one", code="invitation_expired") from None
    except tokens.InvalidToken:
        raise _invalid() from None
    if claims.get("t") != tenant_key or not isinstance(claims.get("i"), str):
        raise _invalid()
    try:
        tenant = tenants.get_enabled(tenant_key)
    except TenantNotFound:
        raise _invalid() from None
    item = store.get(tenant_key, store.WECHAT, claims["i"])
    if item is None:
        raise _invalid()
    _check_usable(item)
    return tenant, item


def _preview(tenant: Tenant, item: store.InvitationItem) -> dict:
    inviter = member_store.get(tenant.tenant_key, item.inviter_id)
    return {"tenant": {"name": tenant.name}, "inviter": {"name": inviter.name if inviter else None},
            "expiresAt": item.expires_at.isoformat()}


def preview(tenant_key: object, token: object, visit: oauth_state.Visit) -> dict:
    """What the accept page shows: the inviting team's name and the inviter's name, and where the team has an
    official account, its OAuth page (`wechatAuthorizeUrl`, back to this link with the visit's `invite…` state)."""
    tenant, item = _resolve(tenant_key, token)
    return {**_preview(tenant, item), "wechatAuthorizeUrl": official_account.authorize_url(
        tenant, link(tenant, item), visit.state(oauth_state.INVITE))}


def identify(tenant_key: object, token: object, code: str) -> dict:
    """Exchange the accept page's OAuth code: the preview and `wechat`, the signed identity `accept` takes."""
    tenant, item = _resolve(tenant_key, token)
    found = official_account.oauth_identity(tenant, code)
    openid, unionid = found.get("openid"), found.get("unionid")
    if not openid:
        raise Unauthorized("WeChat did not name the visitor", code="oauth_failed")
    if unionid and contact_store.find_by_unionid(tenant.tenant_key, unionid) is not None:
        raise Conflict("this WeChat is a contact of the team already: open the home page", code="already_contact")
    ticket = tokens.sign(tokens.WECHAT_IDENTITY, {"t": tenant.tenant_key, "i": item.invitation_id, "o": openid,
                                                  "u": unionid}, int(clock.now()) + IDENTITY_SECONDS)
    return {**_preview(tenant, item), "wechat": ticket}


def _identity(ticket: object, tenant: Tenant, item: store.InvitationItem) -> tuple[str, str | None] | None:
    """(openid, unionid) of a genuine identity for this invitation; None when the page sent none."""
    if ticket is None:
        return None
    try:
        claims = tokens.verify(ticket, tokens.WECHAT_IDENTITY) if isinstance(ticket, str) else {}
    except tokens.ExpiredToken:
        raise Gone("the WeChat authorisation has expired: open the invitation link again",
                   code="wechat_identity_expired") from None
    except tokens.InvalidToken:
        claims = {}
    if claims.get("t") != tenant.tenant_key or claims.get("i") != item.invitation_id \
            or not isinstance(claims.get("o"), str):
        raise Forbidden("the WeChat authorisation is not for this invitation", code="invalid_wechat_identity")
    return claims["o"], claims.get("u") if isinstance(claims.get("u"), str) else None


def _bind(tenant: Tenant, item: store.InvitationItem, contact: Contact, openid: str,
          unionid: str | None) -> dict | None:
    """Give the new contact the WeChat that accepted, and a session; None (no session) when that WeChat became
    another contact's meanwhile."""
    if unionid and contact.unionid != unionid:
        try:
            contact = directory.set_wechat(
                contact, unionid, openid, actor=f"invitation:{item.invitation_id}", action="wechat_bound",
                claim=lambda tx: account_store.claim_wechat_in(tx, tenant.tenant_key, unionid, contact.contact_id))
        except Conflict as err:
            logger.warning("the accepting WeChat could not be bound", extra={"code": err.code,
                                                                            "contactId": contact.contact_id})
            return None
    shares.remember_openid(tenant.tenant_key, contact.contact_id, openid)
    issued = sessions.issue(tenant.tenant_key, sessions.CONTACT, contact.contact_id, WECHAT_OAUTH)
    return {"token": issued.token, "expiresAt": issued.expires_at}



def _accepted_contact(tenant: Tenant, item, fields: dict, place) -> Contact:
    """The invitation's contact, made once: its id derives from the invitation, so an acceptance retried after a
    lapsed lease finds the contact the first attempt made instead of adding a second one."""
    contact_id = contact_store.invitation_contact_id(item.invitation_id)
    try:
        return directory.create_contact(
            tenant,
            {**fields, "remark": item.note, "organisationId": place.organisation_id,
             "departmentId": place.department_id},
            source=SOURCE_INVITATION,
            adder_id=item.inviter_id,
            actor=f"invitation:{item.invitation_id}",
            contact_id=contact_id,
        )
    except Conflict as err:
        existing = contact_store.get(tenant.tenant_key, contact_id) if err.code == "contact_exists" else None
        if existing is None:
            raise
        return existing

def accept(body: dict) -> dict:
    """Accept an invitation: `{tenantKey, token, name, mobile?, email?, position?}` becomes one external contact
    of the inviting team, source `invitation`, added by the inviter (its first visible member), filed where the
    inviter chose, with the invitation's note as its remark."""
    validation.check_fields(body, ("tenantKey", "token", "wechat", *ACCEPT_FIELDS))
    tenant, item = _resolve(body.get("tenantKey"), body.get("token"))
    fields = validation.contact_fields({key: body[key] for key in ACCEPT_FIELDS if key in body}, creating=True)
    wechat = _identity(body.get("wechat"), tenant, item)
    lease = secrets.token_hex(8)
    if not store.lease_wechat(tenant.tenant_key, item.invitation_id, lease, LEASE_SECONDS):
        _refuse(store.get(tenant.tenant_key, store.WECHAT, item.invitation_id))
    try:
        place = directory.placement(tenant.tenant_key, item.organisation_id, item.department_id)
    except BadRequest:
        place = directory.Placement(None, None)  # deleted since the link was made: the contact is filed nowhere
    try:
        contact = _accepted_contact(tenant, item, fields, place)
    except BaseException:
        store.release_wechat(tenant.tenant_key, item.invitation_id, lease)
        raise
    if not store.finish_wechat(tenant.tenant_key, item.invitation_id, lease, contact.contact_id):
        logger.warning("invitation lease lapsed before the acceptance finished",
                       extra={"invitationId": item.invitation_id, "contactId": contact.contact_id})
    queueing.notify_members(
        tenant.tenant_key, [item.inviter_id], title="微信好友已接受邀请",
        description=f"{contact.name} 接受了你的邀请，已加入外部联系人",
        url=public_url(tenant, f"/directory/contacts/{quote(contact.contact_id)}?tenantKey={quote(tenant.tenant_key)}"),
    )
    inviter = member_store.get(tenant.tenant_key, item.inviter_id)
    return {"status": store.ACCEPTED, "tenant": {"name": tenant.name},
            "inviter": {"name": inviter.name if inviter else None},
            "session": _bind(tenant, item, contact, *wechat) if wechat else None}

