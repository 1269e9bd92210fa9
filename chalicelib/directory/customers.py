"""WeCom customers (客户) in the external directory: the one place that turns WeCom's view of a customer into a contact.

Callbacks and the scheduled sync both come here, so a customer is written the same way whichever path saw it
first. WeCom is the source of truth for who follows a customer: an event is a hint to look again, which is what
makes out-of-order and repeated events converge.

The two paths see a customer differently. A callback looks one customer up (`refresh`) and gets all its follow users
at once, so `upsert` replaces the contact's follow map. The sync reads customers member by member
(externalcontact/batch/get_by_user), so one customer arrives once per member who follows it, pages or invocations
apart; `apply_page` merges each member's entry into the contact, and the sync removes the entries of members who no
longer follow it (`unfollow`). Both compare before writing — the WeCom fields by a content hash, the follow users
entry by entry — so a customer nothing happened to costs a read and no write.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from chalicelib.store import contacts, members, organisations
from chalicelib.store.members import Member
from chalicelib.store.organisations import NodeSpec, NodeWriter
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import WeComApiError

ADDED, UPDATED, UNCHANGED, SKIPPED_MEMBER, INACTIVATED, ABSENT = (
    "added", "updated", "unchanged", "skipped_member", "inactivated", "absent",
)
WECOM_USER = 2
_FOLLOW_FIELDS = ("remark", "description", "createtime", "add_way", "state", "oper_userid", "remark_corp_name")


def member_unionids(tenant_key: str) -> frozenset[str]:
    """The WeChat unionids of the team's members (learned when they sign in through WeChat).

    The sync loads them once per invocation — the team is small next to its customers — instead of asking the
    byUnion index once per customer.
    """
    found = Member.query(tenant_key, filter_condition=Member.unionid.exists(), attributes_to_get=["unionid"])
    return frozenset(member.unionid for member in found if member.unionid)


def is_team_member(tenant: Tenant, external_contact: dict, member_unionids: frozenset[str] | None = None) -> bool:
    """A customer who is one of the team's own people is not an external contact.

    Known by the WeChat unionid a member signed in with, or, for a WeCom user, by their corp being the tenant's own.
    `member_unionids` (see `member_unionids`) replaces the index lookup when the caller has them at hand.
    """
    unionid = external_contact.get("unionid")
    if unionid:
        if member_unionids is not None:
            if unionid in member_unionids:
                return True
        elif members.is_member_unionid(tenant.tenant_key, unionid):
            return True
    own_corp = tenant.corp_name
    corp = external_contact.get("corp_full_name") or external_contact.get("corp_name")
    return bool(external_contact.get("type") == WECOM_USER and own_corp and corp == own_corp)


def contact_fields(tenant: Tenant, external_contact: dict) -> dict:
    """The directory's fields for a customer: WeCom users under their corp, WeChat users under the default org,
    both in the tenant's customer dimension."""
    is_wecom_user = external_contact.get("type") == WECOM_USER
    corp = external_contact.get("corp_full_name") or external_contact.get("corp_name")
    under_corp = bool(is_wecom_user and corp)
    return {
        "external_userid": external_contact["external_userid"],
        "name": external_contact.get("name") or external_contact["external_userid"],
        "customer_type": int(external_contact.get("type") or 1),
        "unionid": external_contact.get("unionid"),
        "corp_name": external_contact.get("corp_name"),
        "corp_full_name": external_contact.get("corp_full_name"),
        "position": external_contact.get("position"),
        "organisation_id": organisations.customer_corp_id(corp) if under_corp else organisations.WECHAT_ORGANISATION_ID,
        "org_name": corp if under_corp else tenant.settings.wechat_default_org_name,
        "dimension_id": organisations.CUSTOMER_DIMENSION_ID,
        "dimension_name": tenant.settings.customer_dimension_name,
    }


def customer_dimension(tenant: Tenant) -> NodeSpec:
    return NodeSpec(
        organisations.CUSTOMER_DIMENSION_ID,
        organisations.DIMENSION,
        tenant.settings.customer_dimension_name,
        None,
        organisations.CUSTOMER_DIMENSION_ID,
        organisations.SOURCE_WECOM_CUSTOMER,
    )


def organisation_nodes(tenant: Tenant, fields: dict) -> list[NodeSpec]:
    """The dimension and organisation a customer's contact is filed under, as nodes to make sure of."""
    return [
        customer_dimension(tenant),
        NodeSpec(
            fields["organisation_id"],
            organisations.ORGANISATION,
            fields["org_name"],
            organisations.CUSTOMER_DIMENSION_ID,
            organisations.CUSTOMER_DIMENSION_ID,
            organisations.SOURCE_WECOM_CUSTOMER,
        ),
    ]


def follow_entry(follow: dict) -> dict:
    """What the directory keeps of one member's follow: the same from externalcontact/get and batch/get_by_user."""
    return {key: follow[key] for key in _FOLLOW_FIELDS if follow.get(key) not in (None, "")}


def follow_map(follow_users: Iterable[dict]) -> dict:
    """The members who follow the customer (and so may see it), keyed by userid."""
    return {follow["userid"]: follow_entry(follow) for follow in follow_users}


def content_hash(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def upsert(tenant: Tenant, external_contact: dict, follow_users: Iterable[dict], create: bool = True) -> str:
    """Write the customer as WeCom sees it now; nothing is written when nothing changed.

    With `create` False only a contact already in the directory is updated (auto-sync switched off).
    """
    if is_team_member(tenant, external_contact):
        return SKIPPED_MEMBER
    follows = follow_map(follow_users)
    if not follows:
        gone = contacts.mark_not_customer(tenant.tenant_key, external_contact["external_userid"])
        return INACTIVATED if gone else ABSENT
    fields = contact_fields(tenant, external_contact)
    digest = content_hash(fields)
    existing = contacts.get(tenant.tenant_key, contacts.customer_contact_id(fields["external_userid"]))
    if existing is None and not create:
        return ABSENT
    if (
        existing is not None
        and existing.wecom_customer
        and existing.content_hash == digest
        and existing.follow_users.as_dict() == follows
    ):
        return UNCHANGED
    NodeWriter(tenant.tenant_key).write(organisation_nodes(tenant, fields))
    contacts.upsert_customer(
        tenant.tenant_key,
        fields,
        follows,
        digest,
        int(tenant.settings.default_security_level),
        previous_followers=contacts.follower_ids(existing),
        existing=existing,
    )
    return ADDED if existing is None else UPDATED


def refresh(tenant: Tenant, client: WeComClient, external_userid: str, create: bool = True) -> str:
    """Look the customer up in WeCom and store what it says: the response to any change event."""
    try:
        answer = client.get_customer(external_userid)
    except WeComApiError as err:
        if not err.customer_gone:
            raise
        return INACTIVATED if contacts.mark_not_customer(tenant.tenant_key, external_userid) else ABSENT
    return upsert(tenant, answer["external_contact"], answer["follow_user"], create)


def record_transfer_failure(tenant: Tenant, external_userid: str, userid: str, reason: str) -> bool:
    return contacts.record_transfer_failure(tenant.tenant_key, external_userid, userid, reason)


# --- the sync's path --------------------------------------------------------------------------------------------
@dataclass
class PageOutcome:
    """What one page of (customer, member) pairs did to the directory."""

    contacts: Counter = field(default_factory=Counter)  # added / updated
    organisations: Counter = field(default_factory=Counter)  # added / updated / unchanged
    seen: Counter = field(default_factory=Counter)  # userid -> pairs whose relation is now stored
    skipped: set[str] = field(default_factory=set)  # external_userids of customers who are team members


def apply_page(
    tenant: Tenant,
    pairs: list[dict],
    run_id: str,
    member_unionids: frozenset[str],
    create: bool,
    nodes: NodeWriter,
) -> PageOutcome:
    """Bring the directory in line with one page of externalcontact/batch/get_by_user.

    One BatchGet reads the page's contacts; a contact is written only when its fields or the entries of this page's
    members differ, and once for all of its entries on the page. `seen` counts, per member, the pairs now backed by
    a stored follow relation: the sync compares it with the relations stored for the member to learn whether any
    customer stopped being returned.
    """
    outcome = PageOutcome()
    groups: dict[str, tuple[dict, dict]] = {}
    for pair in pairs:
        external_contact, follow = pair["external_contact"], pair["follow_info"]
        _, entries = groups.setdefault(external_contact["external_userid"], (external_contact, {}))
        entries[follow["userid"]] = follow_entry(follow)
    stored = contacts.batch_get(tenant.tenant_key, (contacts.customer_contact_id(ext) for ext in groups))
    writes = []
    nodes_needed: dict[str, NodeSpec] = {}
    for external_userid, (external_contact, entries) in groups.items():
        existing = stored.get(contacts.customer_contact_id(external_userid))
        if is_team_member(tenant, external_contact, member_unionids):
            outcome.skipped.add(external_userid)
            for userid in entries.keys() & contacts.follower_ids(existing):
                _count(outcome.contacts, unfollow(tenant, external_userid, userid, run_id))
            continue
        if existing is None and not create:
            continue
        outcome.seen.update(entries.keys())
        fields = contact_fields(tenant, external_contact)
        digest = content_hash(fields)
        if existing is not None and existing.wecom_customer and existing.content_hash == digest:
            current = existing.follow_users.as_dict()
            if all(current.get(userid) == entry for userid, entry in entries.items()):
                continue
        writes.append(contacts.CustomerWrite(fields, entries, digest, existing))
        nodes_needed.update((spec.node_id, spec) for spec in organisation_nodes(tenant, fields))
    outcome.organisations.update(nodes.write(nodes_needed.values()))
    level = int(tenant.settings.default_security_level)
    for result in contacts.write_customers(tenant.tenant_key, writes, level, run_id):
        _count(outcome.contacts, result)
    return outcome


def unfollow(tenant: Tenant, external_userid: str, userid: str, run_id: str) -> str | None:
    """The member no longer follows the customer (or the customer is a team member): the contact loses the member.
    One left with no member is inactivated by `inactivate_unfollowed` when the run has seen every member."""
    return contacts.remove_follow(tenant.tenant_key, external_userid, userid, run_id)


def inactivate_unfollowed(tenant: Tenant, run_id: str) -> tuple[int, int, int]:
    """End of a run's customer phase: customers no member follows any more become inactive (timestamped, not
    deleted; their shares stay). Returns (inactivated, of them counted as updated earlier in this run, active)."""
    inactivated = touched = active = 0
    for contact in contacts.customer_sweep(tenant.tenant_key):
        if contact.follow_users.as_dict():
            active += 1
        elif contacts.inactivate_unfollowed(tenant.tenant_key, contact.contact_id):
            inactivated += 1
            touched += contact.sync_run == run_id
    return inactivated, touched, active


def _count(counter: Counter, outcome: str | None) -> None:
    if outcome in (contacts.ADDED, contacts.UPDATED):
        counter[outcome] += 1
