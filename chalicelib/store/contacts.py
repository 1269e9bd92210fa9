"""The external contacts of each tenant's directory (外部联系人), and the index of who follows which customer.

Keyed by tenantKey + contactId. A WeCom customer's contactId is derived from its external_userid, so however many
members follow it, and however often its callbacks or syncs arrive, it is one item: upserts converge instead of
duplicating. WeCom-sourced fields are written with UpdateItem, leaving what people maintain in Yunqiao (security
level, account status, sharing) untouched.

`Contact.follow_users` (userid → follow info) says who follows a customer. The scheduled sync also needs the other
direction — which customers a member follows — to find the customers WeCom stopped returning without holding the
corp in memory or stamping every contact on every run. That is the `customer-follows` table: one tiny item per
(member, customer), keyed `<userid>#<external_userid>` under the tenantKey, so one member's customers, or the
customers of a run of members in key order, are one Query. Every writer keeps one invariant: a follow relation is
stored before the contact names the member, and deleted only after the contact stopped naming them. The index is
therefore never missing an entry the directory has; at worst it holds a stale one, which the next sync removes.

The directory (chalicelib/directory) adds what people maintain: mobile, email, department, remark, adder, visible
members, share list, account name, a version for conditional edits, and the keys of the `byDimension`,
`byOrganisation` and `byUnion` indexes, which every writer — the sync's included — derives from the fields. Wherever
a contact's members or list fields change (including the follow users written here), the front list's index
`contact-access` is kept in step in the same superset order as the follow index (see store/contact_access.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import size
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from chalicelib.store import contact_access
from chalicelib.store.base import (
    TableModel,
    batch_get_in_tenant,
    conditional_save,
    conditional_update,
    table_meta,
    transact,
)
from chalicelib.store.organisations import Node

SOURCE_MANUAL = "manual"
SOURCE_INVITATION = "invitation"
SOURCE_OTHER_ORGANISATION = "other_organisation"
SOURCE_WECOM_CUSTOMER = "wecom_customer"
SOURCE_WECOM_CHAIN = "wecom_chain"
SOURCES = (SOURCE_MANUAL, SOURCE_INVITATION, SOURCE_OTHER_ORGANISATION, SOURCE_WECOM_CUSTOMER, SOURCE_WECOM_CHAIN)
SYNCED_SOURCES = frozenset({SOURCE_WECOM_CUSTOMER, SOURCE_WECOM_CHAIN})  # WeCom owns them: a delete would come back
ACCOUNT_NONE, ACCOUNT_PENDING, ACCOUNT_OPENED, ACCOUNT_DISABLED = "none", "pending", "opened", "disabled"
ACCOUNT_STATUSES = (ACCOUNT_NONE, ACCOUNT_PENDING, ACCOUNT_OPENED, ACCOUNT_DISABLED)
SHARE_VIEW, SHARE_EDIT = "view", "edit"
ADDED, UPDATED, MERGED = "added", "updated", "merged"
QUERY_PAGE = 500  # items per Query request: what a sync holds at once while walking a tenant's contacts or follows


def now() -> datetime:
    return datetime.now(timezone.utc)


def customer_contact_id(external_userid: str) -> str:
    return f"wx-{external_userid}"


def invitation_contact_id(invitation_id: str) -> str:
    """The contact an accepted invitation makes: one per invitation in each tenant, whatever retries happen."""
    return f"inv-{invitation_id}"


def follow_key(userid: str, external_userid: str) -> str:
    """WeCom userids and external_userids never contain '#', so the key splits back unambiguously."""
    return f"{userid}#{external_userid}"


def split_follow_key(key: str) -> tuple[str, str]:
    userid, _, external_userid = key.partition("#")
    return userid, external_userid


def dimension_key(tenant_key: str, dimension_id: str) -> str:
    return f"{tenant_key}#{dimension_id}"


def organisation_key(tenant_key: str, organisation_id: str) -> str:
    return f"{tenant_key}#{organisation_id}"


def place_key(department_id: str | None, contact_id: str) -> str:
    """Sort key in `byOrganisation`: a department's contacts are one `begins_with('<departmentId>#')`; contacts
    filed under no department sort first (`#<contactId>`). Node ids never end with '#', so prefixes never overlap."""
    return f"{department_id or ''}#{contact_id}"


def union_key(tenant_key: str, unionid: str) -> str:
    return f"{tenant_key}#{unionid}"


# What the back-office lists show of a contact, read straight from the index (no GetItem per row).
SUMMARY_ATTRIBUTES = [
    "name", "mobile", "email", "organisationId", "departmentId", "dimensionId", "orgName", "position", "source",
    "adderId", "accountStatus", "securityLevel", "wecomCustomer", "inactiveAt", "createdAt", "updatedAt",
]


class DimensionIndex(GlobalSecondaryIndex):
    """A dimension's contacts (the back office of a dimension maintainer)."""

    class Meta:
        index_name = "byDimension"
        projection = IncludeProjection(SUMMARY_ATTRIBUTES)

    dimension_key = UnicodeAttribute(hash_key=True, attr_name="dimensionKey")
    contact_id = UnicodeAttribute(range_key=True, attr_name="contactId")


class OrganisationIndex(GlobalSecondaryIndex):
    """An organisation's contacts, a department's by prefix: the back-office filter, and the contacts a renamed or
    moved organisation carries along."""

    class Meta:
        index_name = "byOrganisation"
        projection = IncludeProjection(SUMMARY_ATTRIBUTES)

    organisation_key = UnicodeAttribute(hash_key=True, attr_name="organisationKey")
    place_key = UnicodeAttribute(range_key=True, attr_name="placeKey")


class UnionIndex(GlobalSecondaryIndex):
    """The contact of a WeChat unionid (external sign-in through WeChat)."""

    class Meta:
        index_name = "byUnion"
        projection = KeysOnlyProjection()

    union_key = UnicodeAttribute(hash_key=True, attr_name="unionKey")


class Contact(TableModel):
    Meta = table_meta("contacts")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    contact_id = UnicodeAttribute(range_key=True, attr_name="contactId")
    name = UnicodeAttribute()
    source = UnicodeAttribute()
    external_userid = UnicodeAttribute(null=True, attr_name="externalUserId")
    unionid = UnicodeAttribute(null=True)
    customer_type = NumberAttribute(null=True, attr_name="customerType")
    corp_name = UnicodeAttribute(null=True, attr_name="corpName")
    corp_full_name = UnicodeAttribute(null=True, attr_name="corpFullName")
    position = UnicodeAttribute(null=True)
    organisation_id = UnicodeAttribute(null=True, attr_name="organisationId")
    dimension_id = UnicodeAttribute(null=True, attr_name="dimensionId")
    org_name = UnicodeAttribute(null=True, attr_name="orgName")
    dimension_name = UnicodeAttribute(null=True, attr_name="dimensionName")
    follow_users = MapAttribute(default=dict, attr_name="followUsers")
    wecom_customer = BooleanAttribute(default=False, attr_name="wecomCustomer")
    inactive_at = UTCDateTimeAttribute(null=True, attr_name="inactiveAt")
    transfer_failure = MapAttribute(null=True, attr_name="transferFailure")
    security_level = NumberAttribute(default=0, attr_name="securityLevel")
    account_status = UnicodeAttribute(default=ACCOUNT_NONE, attr_name="accountStatus")
    # Hash of the WeCom-sourced fields (not the follow users, which are compared entry by entry).
    content_hash = UnicodeAttribute(null=True, attr_name="contentHash")
    # The last sync run that wrote the contact: a run counts a contact as updated once, however many members' pages
    # touch it.
    sync_run = UnicodeAttribute(null=True, attr_name="syncRun")
    created_at = UTCDateTimeAttribute(default=now, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=now, attr_name="updatedAt")
    # What people maintain in Yunqiao (the directory issue).
    mobile = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    department_id = UnicodeAttribute(null=True, attr_name="departmentId")
    remark = UnicodeAttribute(null=True)
    openid = UnicodeAttribute(null=True)
    adder_id = UnicodeAttribute(null=True, attr_name="adderId")
    # Absent (None) means empty: a synced customer's item does not carry them until someone adds members.
    visible_members = ListAttribute(of=UnicodeAttribute, null=True, attr_name="visibleMembers")
    share_list = MapAttribute(null=True, attr_name="shareList")  # userid -> {"permission": "view" | "edit"}
    account_name = UnicodeAttribute(null=True, attr_name="accountName")
    # A member of another tenant added through "add from another organisation".
    peer_tenant_key = UnicodeAttribute(null=True, attr_name="peerTenantKey")
    peer_user_id = UnicodeAttribute(null=True, attr_name="peerUserId")
    # Bumped by every change people make (edit, members, share list): their writes are conditional on it (absent: 0).
    version = NumberAttribute(null=True)
    # Keys of the indexes, derived from the fields above by every writer.
    dimension_key = UnicodeAttribute(null=True, attr_name="dimensionKey")
    organisation_key = UnicodeAttribute(null=True, attr_name="organisationKey")
    place_key = UnicodeAttribute(null=True, attr_name="placeKey")
    union_key = UnicodeAttribute(null=True, attr_name="unionKey")

    by_dimension = DimensionIndex()
    by_organisation = OrganisationIndex()
    by_union = UnionIndex()


def raw_map(value) -> dict:
    """A raw MapAttribute's value as a plain dict (it is a MapAttribute when read, a dict when just assigned)."""
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def personal_ids(contact: Contact | None) -> frozenset[str]:
    """The members people related to the contact in Yunqiao: its adder, visible members and share list."""
    if contact is None:
        return frozenset()
    found = set(contact.visible_members or ()) | set(raw_map(contact.share_list))
    if contact.adder_id:
        found.add(contact.adder_id)
    return frozenset(found)


def member_ids(contact: Contact | None) -> frozenset[str]:
    """Every member with a personal relation to the contact: its adder, visible members, share list and (WeCom
    customers) followers. These are exactly the members whose front list (`contact-access`) holds it."""
    return personal_ids(contact) | follower_ids(contact)


def access_state(contact: Contact | None) -> contact_access.EntryState | None:
    """The front-list entries a stored contact calls for."""
    if contact is None:
        return None
    return contact_access.EntryState(member_ids(contact), contact_access.entry_of(contact))


def _current_access_state(tenant_key: str, contact_id: str):
    return lambda: access_state(get(tenant_key, contact_id))


def set_account_status(
    tenant_key: str,
    contact_id: str,
    new_status: str,
    expected: tuple[str, ...],
    account_name: str | None = None,
) -> bool:
    """Move the contact's account status to `new_status` if it is one of `expected` now (a conditional UpdateItem):
    of two concurrent deciders exactly one wins. False when the contact is missing or its status was not expected.
    `account_name` is stored with it when given. A contact written before accountStatus existed counts as `none`."""
    if new_status not in ACCOUNT_STATUSES or not expected or any(s not in ACCOUNT_STATUSES for s in expected):
        raise ValueError(f"unknown account status in {new_status!r} / {expected!r}")
    condition = Contact.account_status.is_in(*expected)
    if ACCOUNT_NONE in expected:
        condition = condition | Contact.account_status.does_not_exist()
    actions = [Contact.account_status.set(new_status), Contact.updated_at.set(now())]
    if account_name is not None:
        actions.append(Contact.account_name.set(account_name))
    return conditional_update(Contact(tenant_key, contact_id), actions, Contact.contact_id.exists() & condition)


def find_by_unionid(tenant_key: str, unionid: str) -> Contact | None:
    """The contact carrying this WeChat unionid (one Query on `byUnion`, then a GetItem)."""
    for hit in Contact.by_union.query(union_key(tenant_key, unionid), limit=1):
        return get(tenant_key, hit.contact_id)
    return None


class CustomerFollow(TableModel):
    """(member, customer): the member follows the customer in WeCom and the contact names the member."""

    Meta = table_meta("customer-follows")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    follow_key = UnicodeAttribute(range_key=True, attr_name="followKey")


def get(tenant_key: str, contact_id: str) -> Contact | None:
    try:
        return Contact.get(tenant_key, contact_id, consistent_read=True)
    except DoesNotExist:
        return None


def batch_get(tenant_key: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
    """The existing contacts among these ids, by id."""
    return batch_get_in_tenant(Contact, tenant_key, contact_ids, "contact_id")


def follower_ids(contact: Contact | None) -> set[str]:
    return set(raw_map(contact.follow_users)) if contact is not None else set()


def _field_actions(tenant_key: str, contact_id: str, fields: dict, content_hash: str, security_level: int,
                   stamp: datetime) -> list:
    """The WeCom-sourced fields of a customer (and the index keys derived from them), and Yunqiao's own fields
    defaulted only when the contact is new."""
    unionid = fields.get("unionid")
    return [
        Contact.name.set(fields["name"]),
        Contact.source.set(Contact.source | SOURCE_WECOM_CUSTOMER),
        Contact.external_userid.set(fields["external_userid"]),
        _set_or_remove(Contact.unionid, unionid),
        _set_or_remove(Contact.union_key, union_key(tenant_key, unionid) if unionid else None),
        Contact.customer_type.set(fields["customer_type"]),
        _set_or_remove(Contact.corp_name, fields.get("corp_name")),
        _set_or_remove(Contact.corp_full_name, fields.get("corp_full_name")),
        _set_or_remove(Contact.position, fields.get("position")),
        Contact.organisation_id.set(fields["organisation_id"]),
        Contact.organisation_key.set(organisation_key(tenant_key, fields["organisation_id"])),
        Contact.place_key.set(place_key(None, contact_id)),
        Contact.dimension_id.set(fields["dimension_id"]),
        Contact.dimension_key.set(dimension_key(tenant_key, fields["dimension_id"])),
        Contact.org_name.set(fields["org_name"]),
        Contact.dimension_name.set(fields["dimension_name"]),
        Contact.wecom_customer.set(True),
        Contact.inactive_at.remove(),
        Contact.content_hash.set(content_hash),
        Contact.security_level.set(Contact.security_level | security_level),
        Contact.account_status.set(Contact.account_status | ACCOUNT_NONE),
        Contact.created_at.set(Contact.created_at | stamp),
        Contact.updated_at.set(stamp),
    ]


def _customer_entry(fields: dict, existing: Contact | None) -> dict:
    """A customer's front-list entry: WeCom's fields, and the mobile/email people may have added in Yunqiao."""
    return contact_access.entry(
        contact_id=customer_contact_id(fields["external_userid"]),
        name=fields["name"],
        organisation_id=fields["organisation_id"],
        org_name=fields["org_name"],
        position=fields.get("position"),
        mobile=existing.mobile if existing is not None else None,
        email=existing.email if existing is not None else None,
        source=existing.source if existing is not None else SOURCE_WECOM_CUSTOMER,
    )


def _customer_access(fields: dict, existing: Contact | None, followers: Iterable[str],
                     replace_followers: bool) -> contact_access.EntryState:
    """The front-list entries a customer calls for once its followers are written: `followers` replace the stored
    ones (the callback path) or are merged into them (the sync path)."""
    kept = personal_ids(existing) if replace_followers else member_ids(existing)
    return contact_access.EntryState(frozenset(kept | set(followers)), _customer_entry(fields, existing))


def _set_or_remove(attribute, value):
    return attribute.set(value) if value not in (None, "") else attribute.remove()


def upsert_customer(
    tenant_key: str,
    fields: dict,
    follow_users: dict,
    content_hash: str,
    security_level: int,
    previous_followers: Iterable[str] = (),
    existing: Contact | None = None,
) -> None:
    """Write a WeCom customer's current state (the callback path): WeCom's fields and follow users replaced,
    Yunqiao's own fields kept or defaulted. `previous_followers` are the members the stored contact named, so the
    follow index gains and loses exactly the difference, in the order that keeps it a superset; `existing` (the
    stored contact the caller read) does the same for the front-list index `contact-access`."""
    external_userid = fields["external_userid"]
    contact_id = customer_contact_id(external_userid)
    previous = set(previous_followers)
    before = access_state(existing)
    after = _customer_access(fields, existing, follow_users, replace_followers=True)
    put_follows(tenant_key, [(userid, external_userid) for userid in follow_users if userid not in previous])
    contact_access.put_phase(tenant_key, contact_id, before, after)
    Contact(tenant_key, contact_id).update(
        actions=_field_actions(tenant_key, contact_id, fields, content_hash, security_level, now())
        + [Contact.follow_users.set(follow_users)]
    )
    delete_follows(tenant_key, [(userid, external_userid) for userid in previous if userid not in follow_users])
    contact_access.retire_phase(tenant_key, contact_id, before, after, _current_access_state(tenant_key, contact_id))


@dataclass(frozen=True)
class CustomerWrite:
    """One customer as a sync page saw it: its WeCom fields and the follow entries of the page's members."""

    fields: dict
    entries: dict
    content_hash: str
    existing: Contact | None


def write_customers(tenant_key: str, writes: list[CustomerWrite], security_level: int, run_id: str) -> list[str]:
    """Write a page's changed customers (the sync path); returns each one's outcome.

    The sync meets a customer once per member who follows it, possibly pages or invocations apart, so entries are
    merged into the contact's map (SET followUsers.<userid>) rather than replacing it. The page's new follow
    relations go first, in BatchWriteItem requests of 25, then the contacts: a new one with one conditional PutItem,
    an existing one with an UpdateItem of only what changed (the fields when their hash differs, the entries).
    Outcomes: ADDED for a new contact, UPDATED the first time a run changes an existing one, MERGED when this run
    had written it already.
    """
    put_follows(tenant_key, [
        (userid, write.fields["external_userid"])
        for write in writes
        for userid in write.entries
        if userid not in follower_ids(write.existing)
    ])
    states = [(access_state(write.existing), _customer_access(write.fields, write.existing, write.entries, False))
              for write in writes]
    contact_access.put_many(tenant_key, [
        (customer_contact_id(write.fields["external_userid"]), before, after)
        for write, (before, after) in zip(writes, states)
    ])
    outcomes = [_write_customer(tenant_key, write, security_level, run_id) for write in writes]
    for write, (before, after) in zip(writes, states):
        contact_id = customer_contact_id(write.fields["external_userid"])
        contact_access.retire_phase(tenant_key, contact_id, before, after,
                                    _current_access_state(tenant_key, contact_id))
    return outcomes


def _write_customer(tenant_key: str, write: CustomerWrite, security_level: int, run_id: str) -> str:
    fields, existing = write.fields, write.existing
    contact_id = customer_contact_id(fields["external_userid"])
    stamp = now()
    if existing is None:
        if conditional_save(_new_customer(tenant_key, contact_id, write, security_level, run_id, stamp),
                            Contact.contact_id.does_not_exist()):
            return ADDED
        existing = get(tenant_key, contact_id)  # a callback created it meanwhile: merge into that
        known = follower_ids(existing)
        put_follows(tenant_key, [(u, fields["external_userid"]) for u in write.entries if u not in known])
        contact_access.put_phase(tenant_key, contact_id, None,
                                 _customer_access(fields, existing, write.entries, replace_followers=False))
    actions = [Contact.sync_run.set(run_id), Contact.updated_at.set(stamp)]
    if existing is None or not existing.wecom_customer or existing.content_hash != write.content_hash:
        actions = _field_actions(tenant_key, contact_id, fields, write.content_hash, security_level, stamp) + [
            Contact.sync_run.set(run_id)]
    contact = Contact(tenant_key, contact_id)
    entry_actions = [Contact.follow_users[userid].set(entry) for userid, entry in write.entries.items()]
    if not conditional_update(contact, actions + entry_actions, Contact.follow_users.exists()):
        contact.update(actions=_field_actions(tenant_key, contact_id, fields, write.content_hash, security_level, stamp)
                       + [Contact.sync_run.set(run_id), Contact.follow_users.set(write.entries)])
    return MERGED if existing is not None and existing.sync_run == run_id else UPDATED


def _new_customer(tenant_key: str, contact_id: str, write: CustomerWrite, security_level: int, run_id: str,
                  stamp: datetime) -> Contact:
    fields = write.fields
    optional = {key: fields.get(key) for key in ("unionid", "corp_name", "corp_full_name", "position")
                if fields.get(key) not in (None, "")}
    if fields.get("unionid"):
        optional["union_key"] = union_key(tenant_key, fields["unionid"])
    return Contact(
        tenant_key,
        contact_id,
        name=fields["name"],
        source=SOURCE_WECOM_CUSTOMER,
        external_userid=fields["external_userid"],
        customer_type=fields["customer_type"],
        organisation_id=fields["organisation_id"],
        organisation_key=organisation_key(tenant_key, fields["organisation_id"]),
        place_key=place_key(None, contact_id),
        dimension_id=fields["dimension_id"],
        dimension_key=dimension_key(tenant_key, fields["dimension_id"]),
        org_name=fields["org_name"],
        dimension_name=fields["dimension_name"],
        follow_users=write.entries,
        wecom_customer=True,
        content_hash=write.content_hash,
        security_level=security_level,
        account_status=ACCOUNT_NONE,
        sync_run=run_id,
        created_at=stamp,
        updated_at=stamp,
        **optional,
    )


def remove_follow(tenant_key: str, external_userid: str, userid: str, run_id: str) -> str | None:
    """The member no longer follows the customer: drop it from the contact, then drop the relation.

    A contact left with no member stays a customer until `customer_sweep` at the end of the run's customer phase:
    a later batch may still bring a member who follows it (a customer moved between members), and inactivating it
    in between would make it flicker. Returns UPDATED (counted once per run), MERGED, or None when the contact did
    not name the member (only a stale relation was removed)."""
    contact_id = customer_contact_id(external_userid)
    existing = get(tenant_key, contact_id)
    outcome = None
    if existing is not None and userid in follower_ids(existing) and conditional_update(
        Contact(tenant_key, contact_id),
        [Contact.follow_users[userid].remove(), Contact.sync_run.set(run_id), Contact.updated_at.set(now())],
        Contact.follow_users[userid].exists(),
    ):
        outcome = MERGED if existing.sync_run == run_id else UPDATED
        before = access_state(existing)
        after = contact_access.EntryState(personal_ids(existing) | (follower_ids(existing) - {userid}), before.entry)
        contact_access.retire_phase(tenant_key, contact_id, before, after,
                                    _current_access_state(tenant_key, contact_id))
    delete_follows(tenant_key, [(userid, external_userid)])
    return outcome


def customer_sweep(tenant_key: str) -> Iterator[Contact]:
    """Every contact that is a WeCom customer right now, with its follow users and last sync run (a Query with a
    filter: reads only, once per sync run)."""
    return Contact.query(
        tenant_key,
        filter_condition=Contact.wecom_customer == True,  # noqa: E712 (a condition, not a test)
        attributes_to_get=["contactId", "followUsers", "syncRun"],
        consistent_read=True,
        page_size=QUERY_PAGE,
    )


def inactivate_unfollowed(tenant_key: str, contact_id: str) -> bool:
    """Flag a customer no member follows any more, with a timestamp; its shares and Yunqiao fields stay.

    Conditional on the map still being empty, so a member added meanwhile (a callback) wins."""
    stamp = now()
    return conditional_update(
        Contact(tenant_key, contact_id),
        [
            Contact.wecom_customer.set(False),
            Contact.inactive_at.set(stamp),
            Contact.content_hash.remove(),
            Contact.updated_at.set(stamp),
        ],
        (size(Contact.follow_users) == 0) & (Contact.wecom_customer == True),  # noqa: E712
    )


def mark_not_customer(tenant_key: str, external_userid: str) -> bool:
    """No member follows the customer any more: keep the contact and its shares, flag it inactive.

    False when there is no such contact (a delete that arrived before its add, or for a skipped member).
    """
    existing = get(tenant_key, customer_contact_id(external_userid))
    if existing is None:
        return False
    stamp = now()
    contact = Contact(tenant_key, existing.contact_id)
    if not conditional_update(
        contact,
        [
            Contact.wecom_customer.set(False),
            Contact.follow_users.set({}),
            Contact.inactive_at.set(stamp),
            Contact.content_hash.remove(),
            Contact.updated_at.set(stamp),
        ],
        Contact.contact_id.exists(),
    ):
        return False
    before = access_state(existing)
    after = contact_access.EntryState(personal_ids(existing), before.entry)
    contact_access.retire_phase(tenant_key, existing.contact_id, before, after,
                                _current_access_state(tenant_key, existing.contact_id))
    delete_follows(tenant_key, [(userid, external_userid) for userid in follower_ids(existing)])
    return True


def record_transfer_failure(tenant_key: str, external_userid: str, userid: str, reason: str) -> bool:
    contact = Contact(tenant_key, customer_contact_id(external_userid))
    stamp = now()
    return conditional_update(
        contact,
        [
            Contact.transfer_failure.set({"userid": userid, "reason": reason, "at": stamp.isoformat()}),
            Contact.updated_at.set(stamp),
        ],
        Contact.contact_id.exists(),
    )


# --- the follow index ---------------------------------------------------------------------------------------------
def put_follows(tenant_key: str, pairs: Iterable[tuple[str, str]]) -> None:
    keys = list(dict.fromkeys(follow_key(userid, external_userid) for userid, external_userid in pairs))
    if not keys:
        return
    with CustomerFollow.batch_write() as batch:
        for key in keys:
            batch.save(CustomerFollow(tenant_key, key))


def delete_follows(tenant_key: str, pairs: Iterable[tuple[str, str]]) -> None:
    keys = list(dict.fromkeys(follow_key(userid, external_userid) for userid, external_userid in pairs))
    if not keys:
        return
    with CustomerFollow.batch_write() as batch:
        for key in keys:
            batch.delete(CustomerFollow(tenant_key, key))


def follows_between(tenant_key: str, low: str | None, high: str | None) -> Iterator[tuple[str, str]]:
    """(userid, external_userid) of every relation whose key lies in [low, high] (None: open on that side), in key
    order — the relations of a run of consecutive members."""
    if low is not None and high is not None:
        condition = CustomerFollow.follow_key.between(low, high)
    elif low is not None:
        condition = CustomerFollow.follow_key >= low
    elif high is not None:
        condition = CustomerFollow.follow_key <= high
    else:
        condition = None
    for item in CustomerFollow.query(tenant_key, range_key_condition=condition, consistent_read=True,
                                     page_size=QUERY_PAGE):
        yield split_follow_key(item.follow_key)


def customers_followed_by(tenant_key: str, userid: str) -> Iterator[str]:
    """The external_userids of the relations stored for one member."""
    condition = CustomerFollow.follow_key.startswith(f"{userid}#")
    for item in CustomerFollow.query(tenant_key, range_key_condition=condition, consistent_read=True,
                                     page_size=QUERY_PAGE):
        yield split_follow_key(item.follow_key)[1]


# --- contacts people maintain (the directory's own writes) ------------------------------------------------------
def version_condition(version: int):
    """The contact is still at `version` (one written before versions existed counts as 0)."""
    condition = Contact.version == version
    return condition | Contact.version.does_not_exist() if version == 0 else condition


def _count_on(transaction, tenant_key: str, node_id: str | None, delta: int) -> None:
    """Keep the count of contacts filed directly under a node (only when it still exists, so a node deleted
    meanwhile cancels the write instead of coming back as a bare counter)."""
    if node_id:
        transaction.update(Node(tenant_key, node_id), actions=[Node.contact_count.add(delta)],
                           condition=Node.node_id.exists())


def create_filed(contact: Contact, filed_under: str | None) -> bool:
    """Put a new contact and count it on the node it is filed under (its department, else its organisation), in
    one transaction: False when the id is taken or the node is gone."""
    return transact(lambda tx: (
        tx.save(contact, condition=Contact.contact_id.does_not_exist()),
        _count_on(tx, contact.tenant_key, filed_under, 1),
    ))


def update_filed(tenant_key: str, contact_id: str, version: int, actions: list,
                 moved: tuple[str | None, str | None] | None = None) -> bool:
    """Apply `actions` (plus the version bump) if the contact is still at `version`; `moved` = (old node, new node)
    when it is refiled, counted in the same transaction. False when someone else changed it or the node is gone."""
    stamp = now()
    all_actions = actions + [Contact.version.add(1), Contact.updated_at.set(stamp)]
    old_node, new_node = moved if moved else (None, None)
    if old_node == new_node:
        old_node = new_node = None
    return transact(lambda tx: (
        tx.update(Contact(tenant_key, contact_id), actions=all_actions,
                  condition=Contact.contact_id.exists() & version_condition(version)),
        _count_on(tx, tenant_key, old_node, -1),
        _count_on(tx, tenant_key, new_node, 1),
    ))


def delete_filed(tenant_key: str, contact_id: str, version: int, filed_under: str | None) -> bool:
    """Delete the contact if still at `version`, uncounting it from its node, in one transaction."""
    return transact(lambda tx: (
        tx.delete(Contact(tenant_key, contact_id), condition=Contact.contact_id.exists() & version_condition(version)),
        _count_on(tx, tenant_key, filed_under, -1),
    ))


def filed_under(contact: Contact) -> str | None:
    """The node a contact is counted on: its department, else its organisation."""
    return contact.department_id or contact.organisation_id


def first_page(query_results) -> tuple[list, dict | None]:
    """The first page of a PynamoDB query (exactly one request) and its LastEvaluatedKey."""
    raw = next(query_results.page_iter)
    return list(raw.get("Items", [])), query_results.page_iter.last_evaluated_key


def page_in_tenant(tenant_key: str, start_key: dict | None, limit: int) -> tuple[list[dict], dict | None]:
    """A page of all the tenant's contacts, in id order (raw items, summary attributes only)."""
    return first_page(Contact.query(tenant_key, page_size=limit, last_evaluated_key=start_key,
                                    attributes_to_get=["tenantKey", "contactId"] + SUMMARY_ATTRIBUTES))


def page_in_dimension(tenant_key: str, dimension_id: str, start_key: dict | None, limit: int
                      ) -> tuple[list[dict], dict | None]:
    return first_page(Contact.by_dimension.query(dimension_key(tenant_key, dimension_id), page_size=limit,
                                                 last_evaluated_key=start_key))


def page_in_organisation(tenant_key: str, organisation_id: str, department_id: str | None, start_key: dict | None,
                         limit: int) -> tuple[list[dict], dict | None]:
    condition = OrganisationIndex.place_key.startswith(f"{department_id}#") if department_id else None
    return first_page(Contact.by_organisation.query(organisation_key(tenant_key, organisation_id), condition,
                                                    page_size=limit, last_evaluated_key=start_key))


def refile_dimension(tenant_key: str, contact_id: str, organisation_id: str, dimension_id: str) -> bool:
    """The contact's organisation moved to another dimension (only while it is still filed there)."""
    return conditional_update(
        Contact(tenant_key, contact_id),
        [Contact.dimension_id.set(dimension_id), Contact.dimension_key.set(dimension_key(tenant_key, dimension_id)),
         Contact.updated_at.set(now())],
        Contact.organisation_id == organisation_id,
    )


def rename_organisation(tenant_key: str, contact_id: str, organisation_id: str, org_name: str) -> bool:
    """The contact's organisation was renamed (only while it is still filed there)."""
    return conditional_update(Contact(tenant_key, contact_id), [Contact.org_name.set(org_name)],
                              Contact.organisation_id == organisation_id)


def count_filed_directly(tenant_key: str, organisation_id: str) -> int:
    """How many contacts are filed under an organisation and under none of its departments: one Query with
    Select=COUNT on `byOrganisation` (the sync files its customers there without the node's counter)."""
    return Contact.by_organisation.count(organisation_key(tenant_key, organisation_id),
                                         OrganisationIndex.place_key.startswith("#"))


def in_organisation(tenant_key: str, organisation_id: str) -> Iterator[Contact]:
    """Every contact filed under an organisation (for a rename or a move to cascade to them), key attributes only;
    the caller reads each it must rewrite."""
    for hit in Contact.by_organisation.query(organisation_key(tenant_key, organisation_id), page_size=QUERY_PAGE):
        yield hit
