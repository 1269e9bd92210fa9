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
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import size
from pynamodb.models import Model

from chalicelib.store.base import batch_get_in_tenant, conditional_save, conditional_update, table_meta

SOURCE_WECOM_CUSTOMER = "wecom_customer"
ACCOUNT_NONE = "none"
ADDED, UPDATED, MERGED = "added", "updated", "merged"
QUERY_PAGE = 500  # items per Query request: what a sync holds at once while walking a tenant's contacts or follows


def now() -> datetime:
    return datetime.now(timezone.utc)


def customer_contact_id(external_userid: str) -> str:
    return f"wx-{external_userid}"


def follow_key(userid: str, external_userid: str) -> str:
    """WeCom userids and external_userids never contain '#', so the key splits back unambiguously."""
    return f"{userid}#{external_userid}"


def split_follow_key(key: str) -> tuple[str, str]:
    userid, _, external_userid = key.partition("#")
    return userid, external_userid


class Contact(Model):
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


class CustomerFollow(Model):
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
    return set(contact.follow_users.as_dict()) if contact is not None else set()


def _field_actions(fields: dict, content_hash: str, security_level: int, stamp: datetime) -> list:
    """The WeCom-sourced fields of a customer, and Yunqiao's own fields defaulted only when the contact is new."""
    return [
        Contact.name.set(fields["name"]),
        Contact.source.set(Contact.source | SOURCE_WECOM_CUSTOMER),
        Contact.external_userid.set(fields["external_userid"]),
        _set_or_remove(Contact.unionid, fields.get("unionid")),
        Contact.customer_type.set(fields["customer_type"]),
        _set_or_remove(Contact.corp_name, fields.get("corp_name")),
        _set_or_remove(Contact.corp_full_name, fields.get("corp_full_name")),
        _set_or_remove(Contact.position, fields.get("position")),
        Contact.organisation_id.set(fields["organisation_id"]),
        Contact.dimension_id.set(fields["dimension_id"]),
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


def _set_or_remove(attribute, value):
    return attribute.set(value) if value not in (None, "") else attribute.remove()


def upsert_customer(
    tenant_key: str,
    fields: dict,
    follow_users: dict,
    content_hash: str,
    security_level: int,
    previous_followers: Iterable[str] = (),
) -> None:
    """Write a WeCom customer's current state (the callback path): WeCom's fields and follow users replaced,
    Yunqiao's own fields kept or defaulted. `previous_followers` are the members the stored contact named, so the
    follow index gains and loses exactly the difference, in the order that keeps it a superset."""
    external_userid = fields["external_userid"]
    previous = set(previous_followers)
    put_follows(tenant_key, [(userid, external_userid) for userid in follow_users if userid not in previous])
    Contact(tenant_key, customer_contact_id(external_userid)).update(
        actions=_field_actions(fields, content_hash, security_level, now()) + [Contact.follow_users.set(follow_users)]
    )
    delete_follows(tenant_key, [(userid, external_userid) for userid in previous if userid not in follow_users])


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
    return [_write_customer(tenant_key, write, security_level, run_id) for write in writes]


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
    actions = [Contact.sync_run.set(run_id), Contact.updated_at.set(stamp)]
    if existing is None or not existing.wecom_customer or existing.content_hash != write.content_hash:
        actions = _field_actions(fields, write.content_hash, security_level, stamp) + [Contact.sync_run.set(run_id)]
    contact = Contact(tenant_key, contact_id)
    entry_actions = [Contact.follow_users[userid].set(entry) for userid, entry in write.entries.items()]
    if not conditional_update(contact, actions + entry_actions, Contact.follow_users.exists()):
        contact.update(actions=_field_actions(fields, write.content_hash, security_level, stamp)
                       + [Contact.sync_run.set(run_id), Contact.follow_users.set(write.entries)])
    return MERGED if existing is not None and existing.sync_run == run_id else UPDATED


def _new_customer(tenant_key: str, contact_id: str, write: CustomerWrite, security_level: int, run_id: str,
                  stamp: datetime) -> Contact:
    fields = write.fields
    optional = {key: fields.get(key) for key in ("unionid", "corp_name", "corp_full_name", "position")
                if fields.get(key) not in (None, "")}
    return Contact(
        tenant_key,
        contact_id,
        name=fields["name"],
        source=SOURCE_WECOM_CUSTOMER,
        external_userid=fields["external_userid"],
        customer_type=fields["customer_type"],
        organisation_id=fields["organisation_id"],
        dimension_id=fields["dimension_id"],
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
