"""Add from another organisation (添加其他组织成员): the invitation's lifecycle — a member a search found
(`chalicelib.invitations.search`) is invited, and on acceptance each appears in the other's directory as an external
contact.

An invitation is two items, one in each tenant's partition (`orgout#` with the inviter, `orgin#` with the invitee),
written and moved together in transactions. Its id is derived from the two members, so a pair has at most one
pending invitation, in either direction. The invitee alone accepts or declines (anyone else: 404); a second
decision is 409 `invitation_decided`. Accepting works like a WeChat-friend link: `pending → accepting` under a lease,
the two contacts (source `other_organisation`, `peerTenantKey`/`peerUserId` naming the other side, adder = the
member on that side), each recorded on its item as soon as it exists (a retried acceptance skips it), then
`accepting → accepted`; a failure hands the lease back (`→ pending`).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import quote

from chalicelib.notifications import queueing
from chalicelib.core import clock, cursors
from chalicelib.directory import contacts as directory
from chalicelib.directory import validation
from chalicelib.directory.tree import MAX_NAME as MAX_NODE_NAME
from chalicelib.core.errors import BadRequest, Conflict, Gone, NotFound, TenantNotFound
from chalicelib.auth.identity import Caller
from chalicelib.invitations import notes, search, tokens
from chalicelib.core.observability import logger
from chalicelib.store import contacts as contact_store
from chalicelib.store import invitations as store
from chalicelib.store import members as member_store
from chalicelib.store import organisations as nodes
from chalicelib.store import tenants
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.errors import WeComError
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.tenants.urls import public_url

INVITATION_DAYS = 30
LEASE_SECONDS = 60
PAGE_DEFAULT, PAGE_MAX = 20, 100
DIRECTIONS = {"incoming": store.INCOMING, "outgoing": store.OUTGOING}
OTHER_ORGANISATIONS, OTHER_ORGANISATIONS_NAME = "dim-other-organisations", "其他组织"


def _invitation_not_found() -> NotFound:
    return NotFound("no such invitation", code="invitation_not_found")


# --- invitations -------------------------------------------------------------------------------------------------
def pair_id(tenant_a: str, user_a: str, tenant_b: str, user_b: str) -> str:
    """The same for both directions, so a pair has one invitation at a time."""
    ends = sorted([f"{tenant_a}#{user_a}", f"{tenant_b}#{user_b}"])
    return "oi" + hashlib.sha256("\n".join(ends).encode("utf-8")).hexdigest()[:32]


def _side(tenant: Tenant, user_id: str, name: str | None) -> dict:
    return {"tenantKey": tenant.tenant_key, "userId": user_id, "name": name, "organisation": tenant.name}


def _status(item: store.InvitationItem) -> str:
    if item.status == store.PENDING and item.expires_at <= clock.utcnow():
        return "expired"
    return item.status


def describe(item: store.InvitationItem, caller: Caller) -> dict:
    """The invitation as one of its two members sees it: the other side's name and organisation, never their ids."""

    def person(side) -> dict:
        side = contact_store.raw_map(side)
        shown = {"name": side.get("name"), "organisation": side.get("organisation")}
        if side.get("tenantKey") == caller.tenant_key:
            shown["userId"] = side.get("userId")
        return shown

    return {
        "invitationId": item.invitation_id,
        "direction": "incoming" if item.direction == store.INCOMING else "outgoing",
        "status": _status(item),
        "inviter": person(item.inviter),
        "invitee": person(item.invitee),
        "note": item.note,
        "createdAt": item.created_at.isoformat(),
        "expiresAt": item.expires_at.isoformat(),
        "decidedAt": item.decided_at.isoformat() if item.decided_at else None,
        "contactId": item.contact_id if item.status == store.ACCEPTED else None,
    }


def _connected(tenant_key: str, item: store.InvitationItem | None) -> bool:
    """An earlier invitation of the pair was accepted and its contact is still in this tenant's directory."""
    return bool(item and item.status == store.ACCEPTED and item.contact_id
                and contact_store.get(tenant_key, item.contact_id) is not None)


def _check_not_pending_or_connected(caller: Caller, invitation_id: str) -> None:
    theirs = store.get(caller.tenant_key, store.INCOMING, invitation_id)
    mine = store.get(caller.tenant_key, store.OUTGOING, invitation_id)
    for item in (theirs, mine):
        if item is not None and item.status in (store.PENDING, store.ACCEPTING) and item.expires_at > clock.utcnow():
            who = "they have already invited you: answer their invitation" if item is theirs else \
                "you have already invited them: wait for their answer"
            raise Conflict(who, code="invitation_pending")
    if _connected(caller.tenant_key, theirs) or _connected(caller.tenant_key, mine):
        raise Conflict("you are already in each other's directories", code="already_connected")


def send(caller: Caller, body: dict) -> dict:
    """Invite a member a search found (`candidate`), with an optional note and an optional organisation/department
    of the caller's directory to file their contact under once they accept."""
    validation.check_fields(body, ("candidate", "note", "organisationId", "departmentId"))
    try:
        claims = tokens.verify(body.get("candidate"), tokens.CANDIDATE)
    except tokens.ExpiredToken:
        raise Gone("the search result is too old: search again", code="candidate_expired") from None
    except tokens.InvalidToken:
        raise BadRequest("candidate must be one a search of yours returned", code="invalid_candidate") from None
    if claims.get("t") != caller.tenant_key or claims.get("u") != caller.user_id:
        raise BadRequest("candidate must be one a search of yours returned", code="invalid_candidate")
    note = notes.note(body.get("note"))
    place = directory.placement(caller.tenant_key, body.get("organisationId") or None,
                                body.get("departmentId") or None)
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    try:
        peer_tenant = tenants.get_enabled(claims["pt"])
    except TenantNotFound:
        raise search.not_found() from None
    peer = member_store.get(peer_tenant.tenant_key, claims["pu"])
    if peer is None or peer.status != member_store.ACTIVE:
        raise search.not_found()
    me = member_store.get(caller.tenant_key, caller.user_id)
    invitation_id = pair_id(caller.tenant_key, caller.user_id, peer_tenant.tenant_key, peer.user_id)
    _check_not_pending_or_connected(caller, invitation_id)
    stamp = clock.utcnow()
    expires = stamp + timedelta(days=INVITATION_DAYS)
    common = dict(
        invitation_id=invitation_id,
        kind=store.ORGANISATION,
        status=store.PENDING,
        inviter=_side(tenant, caller.user_id, me.name if me else None),
        invitee=_side(peer_tenant, peer.user_id, peer.name),
        note=note,
        expires_at=expires,
        created_at=stamp,
        ttl=expires + store.KEEP_AFTER_EXPIRY,
    )
    outgoing = store.InvitationItem(
        caller.tenant_key, store.item_key(store.OUTGOING, invitation_id), tenant_key=caller.tenant_key,
        owner_key=store.owner_key(caller.tenant_key, caller.user_id), direction=store.OUTGOING,
        organisation_id=place.organisation_id, department_id=place.department_id, **common)
    incoming = store.InvitationItem(
        peer_tenant.tenant_key, store.item_key(store.INCOMING, invitation_id), tenant_key=peer_tenant.tenant_key,
        owner_key=store.owner_key(peer_tenant.tenant_key, peer.user_id), direction=store.INCOMING, **common)
    if not store.create_pair(outgoing, incoming):
        raise Conflict("you have already invited them: wait for their answer", code="invitation_pending")
    queueing.notify_members(
        peer_tenant.tenant_key, [peer.user_id], title="外部组织成员邀请",
        description=f"{common['inviter']['name'] or caller.user_id}（{tenant.name}）邀请你互加为外部联系人",
        url=public_url(peer_tenant,
                       f"/directory/org-invitations?direction=incoming&tenantKey={quote(peer_tenant.tenant_key)}"),
    )
    return describe(outgoing, caller)


def list_invitations(caller: Caller, direction: str | None, cursor: str | None,
                     limit: int = PAGE_DEFAULT) -> dict:
    """The caller's incoming or outgoing invitations (one Query on `byOwner`)."""
    kind = DIRECTIONS.get(direction or "")
    if kind is None:
        raise BadRequest("direction must be incoming or outgoing", code="invalid_direction")
    owner = store.owner_key(caller.tenant_key, caller.user_id)
    start = cursors.decode(cursor, {"ownerKey": owner, "pk": caller.tenant_key}, ("sk",))
    items, last = store.owned(caller.tenant_key, caller.user_id, kind, limit, start)
    items.sort(key=lambda item: item.created_at, reverse=True)
    return {"invitations": [describe(item, caller) for item in items], "nextCursor": cursors.encode(last)}


def _incoming(caller: Caller, invitation_id: str) -> store.InvitationItem:
    """The caller's own incoming invitation (only the invitee decides; anyone else: 404)."""
    item = store.get(caller.tenant_key, store.INCOMING, invitation_id) if 0 < len(invitation_id) <= 64 else None
    if item is None or contact_store.raw_map(item.invitee).get("userId") != caller.user_id:
        raise _invitation_not_found()
    return item


def _refuse_decided(item: store.InvitationItem) -> None:
    """Raise unless the invitation may still be answered: pending and unexpired, or an acceptance whose lease
    lapsed (its acceptor failed without handing it back)."""
    if item.status == store.ACCEPTING and item.lease_expires_at is not None and item.lease_expires_at < clock.utcnow():
        return
    if item.status == store.PENDING and item.expires_at <= clock.utcnow():
        raise Gone("this invitation has expired", code="invitation_expired")
    if item.status != store.PENDING:
        raise Conflict(f"this invitation was {item.status} already", code="invitation_decided")


def _wecom_details(tenant: Tenant, user_id: str, fallback_name: str | None) -> dict:
    """What the member's own WeCom says of them (name, mobile, email, position), for the contact the other side
    gets; only the values the directory accepts, and just the name when WeCom does not answer."""
    fields = {"name": (fallback_name or user_id)[: validation.LIMITS["name"]]}
    try:
        member = client_for_tenant(tenant).get_member(user_id)
    except WeComError:
        return fields
    if member.get("name"):
        fields["name"] = str(member["name"])[: validation.LIMITS["name"]]
    if member.get("position"):
        fields["position"] = str(member["position"])[: validation.LIMITS["position"]]
    for field, check in (("mobile", validation.mobile), ("email", validation.email)):
        try:
            value = check(member.get(field))
        except BadRequest:
            value = None
        if value:
            fields[field] = value
    return fields


def peer_organisation_id(peer_tenant_key: str) -> str:
    return f"org-peer-{peer_tenant_key}"


def _peer_placement(tenant: Tenant, peer: Tenant) -> directory.Placement:
    """Where a contact from another organisation is filed when its adder chose nowhere: under an organisation named
    after the other team, in the 其他组织 dimension — both created the first time they are needed (through the
    directory's own node writer, which keeps the parent's child count), then people's to rename, move or tidy."""
    tenant_key, org_id = tenant.tenant_key, peer_organisation_id(peer.tenant_key)
    for _ in range(3):
        node = nodes.get(tenant_key, org_id)
        if node is not None and node.kind == nodes.ORGANISATION:
            return directory.Placement(node, None)
        if nodes.get(tenant_key, OTHER_ORGANISATIONS) is None:
            nodes.create_manual(nodes.Node(tenant_key, OTHER_ORGANISATIONS, kind=nodes.DIMENSION,
                                           name=OTHER_ORGANISATIONS_NAME, dimension_id=OTHER_ORGANISATIONS,
                                           source=nodes.SOURCE_MANUAL))
        nodes.create_manual(nodes.Node(tenant_key, org_id, kind=nodes.ORGANISATION, name=peer.name[:MAX_NODE_NAME],
                                       parent_id=OTHER_ORGANISATIONS, dimension_id=OTHER_ORGANISATIONS,
                                       source=nodes.SOURCE_MANUAL))
    return directory.Placement(None, None)


def _ensure_contact(tenant: Tenant, kind: str, item: store.InvitationItem, lease: str, *, about: Tenant,
                    about_user: str, about_name: str | None, adder_id: str,
                    place: directory.Placement) -> str:
    """This side's contact for the other member: the one an earlier, interrupted acceptance made, or a new one."""
    if item.contact_id and contact_store.get(tenant.tenant_key, item.contact_id) is not None:
        return item.contact_id
    if place.organisation is None:
        place = _peer_placement(tenant, about)
    fields = {**_wecom_details(about, about_user, about_name), "peerTenantKey": about.tenant_key,
              "peerUserId": about_user, "organisationId": place.organisation_id,
              "departmentId": place.department_id, "remark": item.note}
    contact_id = contact_store.invitation_contact_id(item.invitation_id)
    try:
        directory.create_contact(tenant, fields, source=contact_store.SOURCE_OTHER_ORGANISATION,
                                 adder_id=adder_id, actor=f"invitation:{item.invitation_id}", contact_id=contact_id)
    except Conflict as err:  # an earlier attempt made it before its lease lapsed: that one is this side's contact
        if err.code != "contact_exists":
            raise
    store.record_contact(tenant.tenant_key, kind, item.invitation_id, lease, contact_id)
    return contact_id


def accept(caller: Caller, invitation_id: str, body: dict) -> dict:
    """Accept an incoming invitation (optionally filing the inviter's contact under an organisation/department of
    the caller's directory): both members appear in each other's directories."""
    validation.check_fields(body, ("organisationId", "departmentId"))
    item = _incoming(caller, invitation_id)
    _refuse_decided(item)
    place = directory.placement(caller.tenant_key, body.get("organisationId") or None,
                                body.get("departmentId") or None)
    inviter = contact_store.raw_map(item.inviter)
    try:
        inviter_tenant = tenants.get_enabled(inviter["tenantKey"])
    except TenantNotFound:
        raise Gone("the inviting organisation no longer uses Yunqiao", code="organisation_unavailable") from None
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    lease = secrets.token_hex(8)
    if not store.lease_pair(inviter_tenant.tenant_key, tenant.tenant_key, invitation_id, lease, LEASE_SECONDS):
        _refuse_decided(store.get(caller.tenant_key, store.INCOMING, invitation_id) or item)
        raise Conflict("this invitation is being answered already", code="invitation_decided")
    try:
        outgoing = store.get(inviter_tenant.tenant_key, store.OUTGOING, invitation_id)
        if outgoing is None:
            raise Gone("the inviting organisation no longer has this invitation", code="organisation_unavailable")
        inviter_place = directory.Placement(None, None)
        try:
            inviter_place = directory.placement(inviter_tenant.tenant_key, outgoing.organisation_id,
                                                outgoing.department_id)
        except BadRequest:
            pass  # the organisation the inviter chose was deleted meanwhile: file it as if none was chosen
        inviter_contact = _ensure_contact(
            inviter_tenant, store.OUTGOING, outgoing, lease, about=tenant, about_user=caller.user_id,
            about_name=contact_store.raw_map(item.invitee).get("name"), adder_id=inviter["userId"],
            place=inviter_place)
        invitee_contact = _ensure_contact(
            tenant, store.INCOMING, store.get(caller.tenant_key, store.INCOMING, invitation_id), lease,
            about=inviter_tenant, about_user=inviter["userId"], about_name=inviter.get("name"),
            adder_id=caller.user_id, place=place)
    except BaseException:
        store.release_pair(inviter_tenant.tenant_key, tenant.tenant_key, invitation_id, lease)
        raise
    if not store.finish_pair(inviter_tenant.tenant_key, tenant.tenant_key, invitation_id, lease, inviter_contact,
                             invitee_contact):
        logger.warning("invitation lease lapsed before the acceptance finished",
                       extra={"invitationId": invitation_id})
    queueing.notify_members(
        inviter_tenant.tenant_key, [inviter["userId"]], title="邀请已接受",
        description=f"{contact_store.raw_map(item.invitee).get('name') or caller.user_id}（{tenant.name}）"
                    f"接受了你的邀请，已加入外部联系人",
        url=public_url(inviter_tenant,
                       f"/directory/contacts/{quote(inviter_contact)}?tenantKey={quote(inviter_tenant.tenant_key)}"),
    )
    return describe(store.get(caller.tenant_key, store.INCOMING, invitation_id), caller)


def decline(caller: Caller, invitation_id: str) -> dict:
    item = _incoming(caller, invitation_id)
    _refuse_decided(item)
    inviter_tenant_key = contact_store.raw_map(item.inviter)["tenantKey"]
    if not store.decline_pair(inviter_tenant_key, caller.tenant_key, invitation_id):
        _refuse_decided(store.get(caller.tenant_key, store.INCOMING, invitation_id) or item)
        raise Conflict("this invitation is being answered already", code="invitation_decided")
    return describe(store.get(caller.tenant_key, store.INCOMING, invitation_id), caller)
