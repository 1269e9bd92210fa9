"""The external contacts of each tenant's directory (外部联系人), and the index of who follows which customer.

Keyed by tenantKey + contactId. A WeCom customer's contactId is derived from its external_userid, so however many
members follow it, and however often its callbacks or syncs arrive, it is one item: upserts converge instead of
duplicating.

`Contact.follow_users` (userid → follow info) says who follows a customer. The scheduled sync also needs the other
direction — which customers a member follows — to find the customers WeCom stopped returning without holding the
corp in memory or stamping every contact on every run. That is the `customer-follows` table: one tiny item per
(member, customer), keyed `<userid>#<external_userid>` under the tenantKey, so one member's customers, or the
customers of a run of members in key order, are one Query.

This module is the tables: the models, their key formats, reads, and the writes each table can make (named for
what they do, each one request or one action of a caller's transaction). What a contact's index keys are, who is
on the front list, and the order in which a contact, its follow relations and its front-list entries are written
are the directory's rules, in chalicelib/directory/contact_writes.py — the one path every writer of a contact
takes.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

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

from chalicelib.core import clock

from chalicelib.store.base import TableModel, batch_get_in_tenant, conditional_save, conditional_update, table_meta

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
QUERY_PAGE = 500  # items per Query request: what a sync holds at once while walking a tenant's contacts or follows


def customer_contact_id(external_userid: str) -> str:
    return f"wx-{external_userid}"


def chain_contact_id(corp_id: str, userid: str) -> str:
    """A 上下游 contact: a member of a downstream corp shared with the tenant's app, one item per (corp, member)."""
    return f"cg-{corp_id}.{userid}"


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


def peer_key(peer_tenant_key: str, peer_user_id: str) -> str:
    """Key of `byPeer`: the member of another tenant a contact is (that member's tenantKey first)."""
    return f"{peer_tenant_key}#{peer_user_id}"


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


class PeerIndex(GlobalSecondaryIndex):
    """The contacts that are one member of another tenant (`peerTenantKey` + `peerUserId`), across tenants: the
    organisations where that member is an external contact (their session's 外部 organisations)."""

    class Meta:
        index_name = "byPeer"
        projection = KeysOnlyProjection()

    peer_key = UnicodeAttribute(hash_key=True, attr_name="peerKey")
    tenant_key = UnicodeAttribute(range_key=True, attr_name="tenantKey")


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
    # Set aside as one of the team's own people, by this signal (directory.customers.MemberSignals): not a customer.
    member_match = UnicodeAttribute(null=True, attr_name="memberMatch")
    inactive_at = UTCDateTimeAttribute(null=True, attr_name="inactiveAt")
    transfer_failure = MapAttribute(null=True, attr_name="transferFailure")
    security_level = NumberAttribute(default=0, attr_name="securityLevel")
    account_status = UnicodeAttribute(default=ACCOUNT_NONE, attr_name="accountStatus")
    # Hash of the WeCom-sourced fields (not the follow users, which are compared entry by entry).
    content_hash = UnicodeAttribute(null=True, attr_name="contentHash")
    # The last sync run that wrote the contact: a run counts a contact as updated once, however many members' pages
    # touch it.
    sync_run = UnicodeAttribute(null=True, attr_name="syncRun")
    created_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="updatedAt")
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
    peer_key = UnicodeAttribute(null=True, attr_name="peerKey")

    by_dimension = DimensionIndex()
    by_organisation = OrganisationIndex()
    by_union = UnionIndex()
    by_peer = PeerIndex()


def raw_map(value) -> dict:
    """A raw MapAttribute's value as a plain dict (it is a MapAttribute when read, a dict when just assigned)."""
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def find_by_unionid(tenant_key: str, unionid: str) -> Contact | None:
    """The contact carrying this WeChat unionid (one Query on `byUnion`, then a GetItem)."""
    for hit in Contact.by_union.query(union_key(tenant_key, unionid), limit=1):
        return get(tenant_key, hit.contact_id)
    return None


def tenants_with_peer(peer_tenant_key: str, peer_user_id: str, limit: int) -> list[str]:
    """The tenants (at most `limit`, in key order) holding a contact that is this member of `peer_tenant_key`: one
    Query on `byPeer`, whose key starts with the member's own tenantKey."""
    found = Contact.by_peer.query(peer_key(peer_tenant_key, peer_user_id), limit=limit * 2, page_size=limit * 2)
    return list(dict.fromkeys(hit.tenant_key for hit in found))[:limit]


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


CHAIN_CONTACTS_PREFIX = "cg-"


def chain_contacts_prefix(corp_id: str) -> str:
    """The ids of one downstream corp's contacts start with it (`chain_contact_id`; corpids hold no `.`)."""
    return f"{CHAIN_CONTACTS_PREFIX}{corp_id}."


def chain_contact_corp(contact_id: str) -> str:
    """The downstream corpid of a `chain_contact_id`."""
    return contact_id[len(CHAIN_CONTACTS_PREFIX):].split(".", 1)[0]


def active_chain_contacts(tenant_key: str, prefix: str = CHAIN_CONTACTS_PREFIX) -> Iterator[Contact]:
    """The 上下游 contacts not marked inactive whose id starts with `prefix` (one corp's, or every corp's): a Query
    on the tenant's partition, key attributes only, once per corp per sync run."""
    return Contact.query(
        tenant_key,
        range_key_condition=Contact.contact_id.startswith(prefix),
        filter_condition=Contact.inactive_at.does_not_exist(),
        attributes_to_get=["contactId"],
        consistent_read=True,
        page_size=QUERY_PAGE,
    )


# --- what the table can do to a contact ---------------------------------------------------------------------------
# Each write takes `fields`: model attribute names to values, None removing the attribute. What to write, and when,
# is the directory's decision (chalicelib/directory/contact_writes.py); these say only how the table does it.
def _attribute(name: str):
    attribute = Contact.get_attributes().get(name)
    if attribute is None or name in ("tenant_key", "contact_id"):
        raise ValueError(f"not a writable contact attribute: {name!r}")
    return attribute


def _actions(fields: dict, defaults: dict | None = None) -> list:
    """SET or REMOVE each of `fields`; SET each of `defaults` only where the item has no value yet."""
    actions = []
    for name, value in fields.items():
        attribute = _attribute(name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    for name, value in (defaults or {}).items():
        if name not in fields:
            attribute = _attribute(name)
            actions.append(attribute.set(attribute | value))
    return actions


def new_item(tenant_key: str, contact_id: str, fields: dict) -> Contact:
    for name in fields:
        _attribute(name)
    return Contact(tenant_key, contact_id, **{name: value for name, value in fields.items() if value is not None})


def version_condition(version: int):
    """The contact is still at `version` (one written before versions existed counts as 0)."""
    condition = Contact.version == version
    return condition | Contact.version.does_not_exist() if version == 0 else condition


def put_new(tenant_key: str, contact_id: str, fields: dict) -> bool:
    """PutItem a contact that must not exist yet; False when it does."""
    return conditional_save(new_item(tenant_key, contact_id, fields), Contact.contact_id.does_not_exist())


def put_new_in(transaction: Any, tenant_key: str, contact_id: str, fields: dict) -> None:
    """`put_new` as one action of a transaction."""
    transaction.save(new_item(tenant_key, contact_id, fields), condition=Contact.contact_id.does_not_exist())


def update_at_version_in(transaction: Any, tenant_key: str, contact_id: str, version: int, fields: dict) -> None:
    """Update the contact if it is still at `version`, bumping the version (one action of a transaction)."""
    transaction.update(Contact(tenant_key, contact_id), actions=_actions(fields) + [Contact.version.add(1)],
                       condition=Contact.contact_id.exists() & version_condition(version))


def delete_at_version_in(transaction: Any, tenant_key: str, contact_id: str, version: int) -> None:
    """Delete the contact if it is still at `version` (one action of a transaction)."""
    transaction.delete(Contact(tenant_key, contact_id),
                       condition=Contact.contact_id.exists() & version_condition(version))


def update_status_in(transaction: Any, tenant_key: str, contact_id: str, fields: dict,
                     status_in: tuple[str, ...]) -> None:
    """Update the contact if its accountStatus is one of `status_in` (one action of a transaction): of two
    concurrent deciders exactly one wins. A contact written before accountStatus existed counts as `none`."""
    if not status_in or any(status not in ACCOUNT_STATUSES for status in status_in):
        raise ValueError(f"unknown account status in {status_in!r}")
    condition = Contact.account_status.is_in(*status_in)
    if ACCOUNT_NONE in status_in:
        condition = condition | Contact.account_status.does_not_exist()
    transaction.update(Contact(tenant_key, contact_id), actions=_actions(fields),
                       condition=Contact.contact_id.exists() & condition)


def update_existing(tenant_key: str, contact_id: str, fields: dict) -> bool:
    """Update the contact if it exists; False when it does not."""
    return conditional_update(Contact(tenant_key, contact_id), _actions(fields), Contact.contact_id.exists())


def update_if_filed_under(tenant_key: str, contact_id: str, organisation_id: str, fields: dict) -> bool:
    """Update the contact while it is still filed under `organisation_id`."""
    return conditional_update(Contact(tenant_key, contact_id), _actions(fields),
                              Contact.organisation_id == organisation_id)


def upsert(tenant_key: str, contact_id: str, fields: dict, defaults: dict) -> bool:
    """UpdateItem whether or not the contact exists: `fields` written, `defaults` only where absent."""
    Contact(tenant_key, contact_id).update(actions=_actions(fields, defaults))
    return True


def merge_followers(tenant_key: str, contact_id: str, fields: dict, entries: dict, defaults: dict) -> bool:
    """Write `fields` and set these members' entries in the follow map, leaving the other members' alone (SET
    followUsers.<userid>); an item without a map yet gets `entries` as its map."""
    contact = Contact(tenant_key, contact_id)
    entry_actions = [Contact.follow_users[userid].set(entry) for userid, entry in entries.items()]
    if not conditional_update(contact, _actions(fields) + entry_actions, Contact.follow_users.exists()):
        contact.update(actions=_actions({**fields, "follow_users": entries}, defaults))
    return True


def drop_follower(tenant_key: str, contact_id: str, userid: str, fields: dict) -> bool:
    """Remove one member from the follow map (and write `fields`); False when the map did not name them."""
    return conditional_update(Contact(tenant_key, contact_id),
                              [Contact.follow_users[userid].remove()] + _actions(fields),
                              Contact.follow_users[userid].exists())


def update_if_unfollowed(tenant_key: str, contact_id: str, fields: dict) -> bool:
    """Update a WeCom customer whose follow map is (still) empty; False when a member was added meanwhile."""
    return conditional_update(Contact(tenant_key, contact_id), _actions(fields),
                              (size(Contact.follow_users) == 0) & (Contact.wecom_customer == True))  # noqa: E712


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
