"""The invitations table: WeChat-friend invitation links, invitations between organisations (tenants), and the
small lookup items that let a member find someone in another organisation without enumerating anybody.

One table, several item kinds, each keyed so that its access is a GetItem or one Query:

| item | `pk` | `sk` |
| --- | --- | --- |
| a WeChat-friend invitation | `<tenantKey>` | `wechat#<invitationId>` |
| an invitation to another organisation, the inviter's copy | `<tenantKey>` | `orgout#<invitationId>` |
| the same invitation, the invitee's copy | `<other tenantKey>` | `orgin#<invitationId>` |
| a member's name in the lookup index | `<tenantKey>` | `who#<sha256(normalised name)>#<userId>` |
| a caller's searches in one minute | `<tenantKey>` | `rate#<userId>#<yyyymmddHHMM>` |
| a tenant under an organisation name | `orgname#<sha256(normalised name)>` | `<tenantKey>` |

The organisation-name items are the only ones not under a tenantKey: finding "which tenant is called X" is, by
nature, a question across tenants (like the WeCom layer's global items). They hold nothing but the key.

The `byOwner` index (hash `ownerKey` = `<tenantKey>#<userId>`, range `sk`) lists one member's invitations: the links
they created (`begins_with(sk, 'wechat#')`), the invitations they sent (`orgout#`) or received (`orgin#`).
Every state change is a conditional write; the two copies of an invitation between organisations move together in
one transaction.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.core import clock
from chalicelib.store.base import TableModel, conditional_update, table_meta, transact

WECHAT, ORGANISATION = "wechat", "organisation"
OUTGOING, INCOMING = "outgoing", "incoming"
# WeChat-friend links: open → accepting (a lease while the contact is created) → accepted; or revoked.
OPEN, ACCEPTING, ACCEPTED, REVOKED = "open", "accepting", "accepted", "revoked"
# Between organisations: pending → accepting → accepted; or declined.
PENDING, DECLINED = "pending", "declined"
KEEP_AFTER_EXPIRY = timedelta(days=30)  # decided or expired invitations stay listable this long, then TTL drops them
_SK_PREFIX = {WECHAT: "wechat#", OUTGOING: "orgout#", INCOMING: "orgin#"}


class OwnerIndex(GlobalSecondaryIndex):
    """One member's invitations, by kind (the sort key's prefix)."""

    class Meta:
        index_name = "byOwner"
        projection = AllProjection()

    owner_key = UnicodeAttribute(hash_key=True, attr_name="ownerKey")
    sk = UnicodeAttribute(range_key=True)


class InvitationItem(TableModel):
    Meta = table_meta("invitations")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner_key = UnicodeAttribute(null=True, attr_name="ownerKey")
    invitation_id = UnicodeAttribute(null=True, attr_name="invitationId")
    kind = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    tenant_key = UnicodeAttribute(null=True, attr_name="tenantKey")
    # WeChat-friend links: who invites, and where the contact will be filed.
    inviter_id = UnicodeAttribute(null=True, attr_name="inviterId")
    organisation_id = UnicodeAttribute(null=True, attr_name="organisationId")
    department_id = UnicodeAttribute(null=True, attr_name="departmentId")
    note = UnicodeAttribute(null=True)
    # Between organisations: this copy's direction and both sides ({tenantKey, userId, name, organisation}).
    direction = UnicodeAttribute(null=True)
    inviter = MapAttribute(null=True)
    invitee = MapAttribute(null=True)
    contact_id = UnicodeAttribute(null=True, attr_name="contactId")  # the contact created in this item's tenant
    lease = UnicodeAttribute(null=True)  # who is completing an acceptance right now
    lease_expires_at = UTCDateTimeAttribute(null=True, attr_name="leaseExpiresAt")
    expires_at = UTCDateTimeAttribute(null=True, attr_name="expiresAt")
    created_at = UTCDateTimeAttribute(null=True, attr_name="createdAt")
    decided_at = UTCDateTimeAttribute(null=True, attr_name="decidedAt")
    # Lookup items: the member a name item points at; a rate item's count.
    user_id = UnicodeAttribute(null=True, attr_name="userId")
    count = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)

    by_owner = OwnerIndex()


def owner_key(tenant_key: str, user_id: str) -> str:
    return f"{tenant_key}#{user_id}"


def item_key(kind: str, invitation_id: str) -> str:
    """`kind` is WECHAT, OUTGOING or INCOMING."""
    return _SK_PREFIX[kind] + invitation_id


def get(tenant_key: str, kind: str, invitation_id: str) -> InvitationItem | None:
    try:
        return InvitationItem.get(tenant_key, item_key(kind, invitation_id), consistent_read=True)
    except DoesNotExist:
        return None


def create_wechat(item: InvitationItem) -> None:
    item.save(condition=InvitationItem.sk.does_not_exist())


def owned(tenant_key: str, user_id: str, kind: str, limit: int,
          after: dict | None) -> tuple[list[InvitationItem], dict | None]:
    """A page of one member's invitations of a kind, newest first (ids are time-ordered), and the next page's key."""
    result = InvitationItem.by_owner.query(
        owner_key(tenant_key, user_id),
        InvitationItem.sk.startswith(_SK_PREFIX[kind]),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=after,
    )
    items = list(result)
    return items, result.last_evaluated_key


# --- leases: the accepting step ----------------------------------------------------------------------------------
def _may_lease(start_statuses: tuple[str, ...], stamp: datetime):
    """From one of the start statuses, or from an `accepting` whose lease lapsed (the acceptor crashed)."""
    return InvitationItem.status.is_in(*start_statuses) | (
        (InvitationItem.status == ACCEPTING) & (InvitationItem.lease_expires_at < stamp)
    )


def lease_wechat(tenant_key: str, invitation_id: str, lease: str, lease_seconds: int) -> bool:
    """open → accepting under this lease; False when another acceptance holds it or it is decided."""
    stamp = clock.utcnow()
    return conditional_update(
        InvitationItem(tenant_key, item_key(WECHAT, invitation_id)),
        [InvitationItem.status.set(ACCEPTING), InvitationItem.lease.set(lease),
         InvitationItem.lease_expires_at.set(stamp + timedelta(seconds=lease_seconds))],
        InvitationItem.sk.exists() & _may_lease((OPEN,), stamp),
    )


def finish_wechat(tenant_key: str, invitation_id: str, lease: str, contact_id: str) -> bool:
    return conditional_update(
        InvitationItem(tenant_key, item_key(WECHAT, invitation_id)),
        [InvitationItem.status.set(ACCEPTED), InvitationItem.contact_id.set(contact_id),
         InvitationItem.decided_at.set(clock.utcnow()), InvitationItem.lease.remove(),
         InvitationItem.lease_expires_at.remove()],
        (InvitationItem.status == ACCEPTING) & (InvitationItem.lease == lease),
    )


def release_wechat(tenant_key: str, invitation_id: str, lease: str) -> bool:
    """accepting → open again: the acceptance failed (bad input), the link stays usable."""
    return conditional_update(
        InvitationItem(tenant_key, item_key(WECHAT, invitation_id)),
        [InvitationItem.status.set(OPEN), InvitationItem.lease.remove(), InvitationItem.lease_expires_at.remove()],
        (InvitationItem.status == ACCEPTING) & (InvitationItem.lease == lease),
    )


def revoke_wechat(tenant_key: str, invitation_id: str) -> bool:
    return conditional_update(
        InvitationItem(tenant_key, item_key(WECHAT, invitation_id)),
        [InvitationItem.status.set(REVOKED), InvitationItem.decided_at.set(clock.utcnow())],
        InvitationItem.status == OPEN,
    )


# --- invitations between organisations ---------------------------------------------------------------------------
def create_pair(outgoing: InvitationItem, incoming: InvitationItem) -> bool:
    """Both copies of a new invitation between organisations, or neither. The id is the same for every invitation
    between the same two members, so while one is pending a second is refused (False); a decided or expired one is
    replaced."""
    replaceable = (InvitationItem.sk.does_not_exist() | InvitationItem.status.is_in(DECLINED, ACCEPTED)
                   | ((InvitationItem.status == PENDING) & (InvitationItem.expires_at < clock.utcnow())))
    return transact(lambda t: (t.save(outgoing, condition=replaceable),
                               t.save(incoming, condition=replaceable))).committed


def _pair_keys(inviter_tenant: str, invitee_tenant: str, invitation_id: str) -> tuple[InvitationItem, InvitationItem]:
    return (InvitationItem(inviter_tenant, item_key(OUTGOING, invitation_id)),
            InvitationItem(invitee_tenant, item_key(INCOMING, invitation_id)))


def lease_pair(inviter_tenant: str, invitee_tenant: str, invitation_id: str, lease: str, lease_seconds: int) -> bool:
    stamp = clock.utcnow()
    actions = [InvitationItem.status.set(ACCEPTING), InvitationItem.lease.set(lease),
               InvitationItem.lease_expires_at.set(stamp + timedelta(seconds=lease_seconds))]
    condition = InvitationItem.sk.exists() & _may_lease((PENDING,), stamp)
    return transact(lambda t: [t.update(item, actions=actions, condition=condition)
                                for item in _pair_keys(inviter_tenant, invitee_tenant, invitation_id)]).committed


def finish_pair(inviter_tenant: str, invitee_tenant: str, invitation_id: str, lease: str,
                inviter_contact_id: str, invitee_contact_id: str) -> bool:
    stamp = clock.utcnow()
    outgoing, incoming = _pair_keys(inviter_tenant, invitee_tenant, invitation_id)
    condition = (InvitationItem.status == ACCEPTING) & (InvitationItem.lease == lease)
    common = [InvitationItem.status.set(ACCEPTED), InvitationItem.decided_at.set(stamp),
              InvitationItem.lease.remove(), InvitationItem.lease_expires_at.remove()]
    return transact(lambda t: (
        t.update(outgoing, actions=common + [InvitationItem.contact_id.set(inviter_contact_id)], condition=condition),
        t.update(incoming, actions=common + [InvitationItem.contact_id.set(invitee_contact_id)], condition=condition),
    )).committed


def release_pair(inviter_tenant: str, invitee_tenant: str, invitation_id: str, lease: str) -> bool:
    actions = [InvitationItem.status.set(PENDING), InvitationItem.lease.remove(),
               InvitationItem.lease_expires_at.remove()]
    condition = (InvitationItem.status == ACCEPTING) & (InvitationItem.lease == lease)
    return transact(lambda t: [t.update(item, actions=actions, condition=condition)
                                for item in _pair_keys(inviter_tenant, invitee_tenant, invitation_id)]).committed


def record_contact(tenant_key: str, kind: str, invitation_id: str, lease: str, contact_id: str) -> bool:
    """Note the contact an acceptance created on one side while it still holds the lease, so an acceptance that
    failed half-way and is retried does not create that side's contact twice."""
    return conditional_update(
        InvitationItem(tenant_key, item_key(kind, invitation_id)),
        [InvitationItem.contact_id.set(contact_id)],
        (InvitationItem.status == ACCEPTING) & (InvitationItem.lease == lease),
    )

def decline_pair(inviter_tenant: str, invitee_tenant: str, invitation_id: str) -> bool:
    actions = [InvitationItem.status.set(DECLINED), InvitationItem.decided_at.set(clock.utcnow())]
    condition = InvitationItem.status == PENDING
    return transact(lambda t: [t.update(item, actions=actions, condition=condition)
                                for item in _pair_keys(inviter_tenant, invitee_tenant, invitation_id)]).committed


# --- lookup items ------------------------------------------------------------------------------------------------
def remember_name(tenant_key: str, name_hash: str, user_id: str) -> None:
    """Idempotent: the same (name, member) is one item however often the member is seen."""
    InvitationItem(tenant_key, f"who#{name_hash}#{user_id}", user_id=user_id).save()


def named(tenant_key: str, name_hash: str, limit: int) -> list[str]:
    """The userids indexed under a name (possibly stale: the caller checks the member's current name)."""
    return [item.user_id for item in InvitationItem.query(
        tenant_key, InvitationItem.sk.startswith(f"who#{name_hash}#"), limit=limit)]


def remember_organisation(name_hash: str, tenant_key: str) -> None:
    InvitationItem(f"orgname#{name_hash}", tenant_key).save()


def organisations_named(name_hash: str, limit: int) -> list[str]:
    """The tenantKeys indexed under an organisation name (possibly stale: the caller checks the tenant's name)."""
    return [item.sk for item in InvitationItem.query(f"orgname#{name_hash}", limit=limit)]


def take_rate_permit(tenant_key: str, user_id: str, minute: str, limit: int, expires: datetime) -> bool:
    """Count one search in this caller's minute; False once `limit` were counted (nothing is added then)."""
    item = InvitationItem(tenant_key, f"rate#{user_id}#{minute}")
    return conditional_update(
        item,
        [InvitationItem.count.add(1), InvitationItem.ttl.set(expires)],
        InvitationItem.count.does_not_exist() | (InvitationItem.count < limit),
    )
