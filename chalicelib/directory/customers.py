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

from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.directory import contact_writes, validation
from chalicelib.store import contacts, members, organisations
from chalicelib.store.contacts import Contact
from chalicelib.store.members import Member
from chalicelib.store.organisations import NodeSpec, NodeWriter
from chalicelib.store.tenants import Tenant
from chalicelib.tenants import corp_info
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import WeComApiError

ADDED, UPDATED, UNCHANGED, SKIPPED_MEMBER, INACTIVATED, ABSENT = (
    "added", "updated", "unchanged", "skipped_member", "inactivated", "absent",
)
OWN_CORP, UNIONID, MOBILE = "own_corp", "unionid", "remark_mobile"  # the signals that tell a member (`MemberSignals`)
MERGED = "merged"  # a sync run wrote the contact again: counted as updated once per run
WECOM_USER = 2
_FOLLOW_FIELDS = ("remark", "description", "createtime", "add_way", "state", "oper_userid", "remark_corp_name")


def member_unionids(tenant_key: str) -> frozenset[str]:
    """The WeChat unionids of the team's members (learned when a member binds their WeChat, `auth.member_wechat`).

    The sync loads them once per invocation — the team is small next to its customers — instead of asking the
    byUnion index once per customer.
    """
    found = Member.query(tenant_key, filter_condition=Member.unionid.exists(), attributes_to_get=["unionid"])
    return frozenset(member.unionid for member in found if member.unionid)


def normalise_mobile(value: object) -> str | None:
    """A remark mobile as WeCom's members carry theirs (mainland numbers without +86), or None when it is not one."""
    text = "".join(str(value or "").split()).replace("-", "")
    if text.startswith("+86"):
        text = text[3:]
    return text if validation.MOBILE.match(text) else None


@dataclass
class MemberSignals:
    """Every signal WeCom gives that a customer is one of the team's own people:

    - a WeCom user (type 2) whose corp is the tenant's own. WeCom names a customer's corp (`corp_name`,
      `corp_full_name`), never its corpid, so the tenant's corp — known by its corpid — is matched by the names
      recorded for it (`tenants.corp_info`); while the tenant has none, no WeCom user is synced (it might be one);
    - a WeChat user (type 1) whose unionid a member bound (the members' `byUnion` index, or `unionids` loaded once);
    - a customer one of whose follow entries carries a remark mobile (`remark_mobiles`) that is a member's mobile,
      asked of WeCom (`user/getuserid`) once per mobile and remembered for this object's life.

    A sync builds one per invocation (`for_sync`); a callback one per event.
    """

    tenant: Tenant
    client: WeComClient | None = None
    unionids: frozenset[str] | None = None  # None: ask the byUnion index per customer
    mobiles: dict[str, bool] = field(default_factory=dict)
    mobile_lookup_refused: bool = False  # WeCom refused user/getuserid (no permission): the signal is unavailable

    @classmethod
    def for_sync(cls, tenant: Tenant, client: WeComClient) -> "MemberSignals":
        return cls(tenant, client, member_unionids(tenant.tenant_key))

    def own_corp(self, external_contact: dict) -> bool:
        """A WeCom user of the tenant's own corp — or of a corp that cannot be told from it (names unknown)."""
        if external_contact.get("type") != WECOM_USER:
            return False
        own = corp_info.names(self.tenant)
        if not own:
            return True
        return bool({external_contact.get("corp_name"), external_contact.get("corp_full_name")} & own)

    def member_unionid(self, unionid: str | None) -> bool:
        if not unionid:
            return False
        if self.unionids is not None:
            return unionid in self.unionids
        return members.is_member_unionid(self.tenant.tenant_key, unionid)

    def member_mobile(self, mobile: str) -> bool:
        """Whether a member of the corp has this mobile (WeCom's user/getuserid: 46004 says none)."""
        if mobile in self.mobiles:
            return self.mobiles[mobile]
        if self.mobile_lookup_refused:
            return False
        if self.client is None:
            self.client = client_for_tenant(self.tenant)
        try:
            self.client.userid_by_mobile(mobile)
            found = True
        except WeComApiError as err:
            if err.member_not_found:
                found = False
            elif err.transient or err.rate_limited or err.token_invalid:
                raise
            else:  # no permission to look members up (e.g. 48002, 60011): this signal is not available
                logger.warning("members cannot be looked up by mobile", extra={"errcode": err.errcode})
                self.mobile_lookup_refused = True
                return False
        self.mobiles[mobile] = found
        return found

    def match(self, external_contact: dict, follows: Iterable[dict] = ()) -> str | None:
        """Which signal says the customer is one of the team (OWN_CORP, UNIONID, MOBILE), or None."""
        if self.own_corp(external_contact):
            return OWN_CORP
        if self.member_unionid(external_contact.get("unionid")):
            return UNIONID
        remarked = {mobile for follow in follows
                    for mobile in map(normalise_mobile, follow.get("remark_mobiles") or ()) if mobile}
        return MOBILE if any(self.member_mobile(mobile) for mobile in sorted(remarked)) else None

    def is_member(self, external_contact: dict, follows: Iterable[dict] = ()) -> bool:
        return self.match(external_contact, follows) is not None


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


def _contact_record(fields: dict, digest: str) -> dict:
    """The contact attributes WeCom owns on a customer (what `contact_fields` says, and that it is a customer now)."""
    return {
        "name": fields["name"],
        "external_userid": fields["external_userid"],
        "unionid": fields.get("unionid") or None,
        "customer_type": fields["customer_type"],
        "corp_name": fields.get("corp_name") or None,
        "corp_full_name": fields.get("corp_full_name") or None,
        "position": fields.get("position") or None,
        "organisation_id": fields["organisation_id"],
        "dimension_id": fields["dimension_id"],
        "org_name": fields["org_name"],
        "dimension_name": fields["dimension_name"],
        "wecom_customer": True,
        "inactive_at": None,
        "member_match": None,
        "content_hash": digest,
    }


def _new_contact_defaults(security_level: int, stamp) -> dict:
    """What Yunqiao's own fields start as on a customer's contact; a contact that has them keeps its own."""
    return {"source": contacts.SOURCE_WECOM_CUSTOMER, "security_level": security_level,
            "account_status": contacts.ACCOUNT_NONE, "created_at": stamp}


def upsert(tenant: Tenant, external_contact: dict, follow_users: Iterable[dict], create: bool = True,
           member_signals: MemberSignals | None = None) -> str:
    """Write the customer as WeCom sees it now; nothing is written when nothing changed.

    With `create` False only a contact already in the directory is updated (auto-sync switched off). A customer who
    is one of the team's own people is not written, and a contact made of them before is set aside (inactive).
    """
    follow_users = list(follow_users)
    signal = (member_signals or MemberSignals(tenant)).match(external_contact, follow_users)
    if signal is not None:
        set_aside_member(tenant, external_contact["external_userid"], signal)
        return SKIPPED_MEMBER
    follows = follow_map(follow_users)
    if not follows:
        return INACTIVATED if _not_customer(tenant, external_contact["external_userid"]) else ABSENT
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
    tenant_key, contact_id = tenant.tenant_key, contacts.customer_contact_id(fields["external_userid"])
    defaults = _new_contact_defaults(int(tenant.settings.default_security_level), clock.utcnow())
    contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id, {**_contact_record(fields, digest), "follow_users": follows},
        lambda record: contacts.upsert(tenant_key, contact_id, record, defaults),
        before=existing, defaults=defaults,
    ))
    return ADDED if existing is None else UPDATED


def refresh(tenant: Tenant, client: WeComClient, external_userid: str, create: bool = True) -> str:
    """Look the customer up in WeCom and store what it says: the response to any change event."""
    try:
        answer = client.get_customer(external_userid)
    except WeComApiError as err:
        if not err.customer_gone:
            raise
        return INACTIVATED if _not_customer(tenant, external_userid) else ABSENT
    if answer["external_contact"].get("type") == WECOM_USER and not corp_info.names(tenant):
        corp_info.ensure_names(tenant, client, [follow["userid"] for follow in answer["follow_user"]])
    return upsert(tenant, answer["external_contact"], answer["follow_user"], create, MemberSignals(tenant, client))


def set_aside_member(tenant: Tenant, external_userid: str, signal: str, existing: Contact | None = None) -> bool:
    """The customer turned out to be one of the team's own people: a contact already made of them becomes inactive,
    loses its followers and says by which signal (`member_match`; shares and Yunqiao's fields stay, as for any
    customer nobody follows). False when there is no such contact, or it was set aside already."""
    tenant_key, contact_id = tenant.tenant_key, contacts.customer_contact_id(external_userid)
    existing = existing or contacts.get(tenant_key, contact_id)
    if existing is None or (existing.member_match and not existing.wecom_customer):
        return False
    stamp = clock.utcnow()
    return contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id,
        {"wecom_customer": False, "follow_users": {}, "inactive_at": existing.inactive_at or stamp,
         "content_hash": None, "member_match": signal, "updated_at": stamp},
        lambda record: contacts.update_existing(tenant_key, contact_id, record),
        before=existing,
    ))


def _not_customer(tenant: Tenant, external_userid: str) -> bool:
    """No member follows the customer any more: keep the contact and its shares, flag it inactive.

    False when there is no such contact (a delete that arrived before its add, or for a skipped member).
    """
    tenant_key, contact_id = tenant.tenant_key, contacts.customer_contact_id(external_userid)
    existing = contacts.get(tenant_key, contact_id)
    if existing is None:
        return False
    stamp = clock.utcnow()
    return contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id,
        {"wecom_customer": False, "follow_users": {}, "inactive_at": stamp, "content_hash": None, "updated_at": stamp},
        lambda record: contacts.update_existing(tenant_key, contact_id, record),
        before=existing,
    ))


def record_transfer_failure(tenant: Tenant, external_userid: str, userid: str, reason: str) -> bool:
    """WeCom could not hand the customer over to another member: the back office shows why."""
    tenant_key, contact_id = tenant.tenant_key, contacts.customer_contact_id(external_userid)
    stamp = clock.utcnow()
    return contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id,
        {"transfer_failure": {"userid": userid, "reason": reason, "at": stamp.isoformat()}, "updated_at": stamp},
        lambda record: contacts.update_existing(tenant_key, contact_id, record),
    ))


# --- the sync's path --------------------------------------------------------------------------------------------
@dataclass
class PageOutcome:
    """What one page of (customer, member) pairs did to the directory."""

    contacts: Counter = field(default_factory=Counter)  # added / updated
    organisations: Counter = field(default_factory=Counter)  # added / updated / unchanged
    seen: Counter = field(default_factory=Counter)  # userid -> pairs whose relation is now stored
    skipped: set[str] = field(default_factory=set)  # external_userids of customers who are team members
    held: set[str] = field(default_factory=set)  # set aside as members before, no signal on this page: look again


def apply_page(
    tenant: Tenant,
    pairs: list[dict],
    run_id: str,
    member_signals: MemberSignals,
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
    follows_seen: dict[str, list[dict]] = {}
    for pair in pairs:
        external_contact, follow = pair["external_contact"], pair["follow_info"]
        _, entries = groups.setdefault(external_contact["external_userid"], (external_contact, {}))
        entries[follow["userid"]] = follow_entry(follow)
        follows_seen.setdefault(external_contact["external_userid"], []).append(follow)
    stored = contacts.batch_get(tenant.tenant_key, (contacts.customer_contact_id(ext) for ext in groups))
    writes = []
    nodes_needed: dict[str, NodeSpec] = {}
    for external_userid, (external_contact, entries) in groups.items():
        existing = stored.get(contacts.customer_contact_id(external_userid))
        signal = member_signals.match(external_contact, follows_seen[external_userid])
        if signal is not None:
            outcome.skipped.add(external_userid)
            if existing is not None and set_aside_member(tenant, external_userid, signal, existing):
                outcome.contacts["inactivated"] += 1
            continue
        if existing is not None and existing.member_match:
            # A remark mobile is on one member's follow entry only: another member's page shows no signal. The run
            # looks the customer up whole (`refresh`) once all its pages are seen, unless a later page matches it.
            outcome.held.add(external_userid)
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
        writes.append(CustomerWrite(fields, entries, digest, existing))
        nodes_needed.update((spec.node_id, spec) for spec in organisation_nodes(tenant, fields))
    outcome.organisations.update(nodes.write(nodes_needed.values()))
    level = int(tenant.settings.default_security_level)
    for result in write_customers(tenant.tenant_key, writes, level, run_id):
        _count(outcome.contacts, result)
    return outcome


@dataclass(frozen=True)
class CustomerWrite:
    """One customer as a sync page saw it: its WeCom fields and the follow entries of the page's members."""

    fields: dict
    entries: dict
    content_hash: str
    existing: Contact | None


def _page_change(tenant_key: str, write: CustomerWrite, security_level: int, run_id: str) -> contact_writes.Change:
    """A customer's contact gains this page's follow entries (merged into its map: the sync meets a customer once
    per member who follows it, possibly pages or invocations apart), and WeCom's fields when their hash differs. A
    new one is put whole, conditionally, so a callback that made it meanwhile is not overwritten."""
    contact_id = contacts.customer_contact_id(write.fields["external_userid"])
    stamp = clock.utcnow()
    defaults = _new_contact_defaults(security_level, stamp)
    existing = write.existing
    record = {"sync_run": run_id, "updated_at": stamp}
    if existing is None or not existing.wecom_customer or existing.content_hash != write.content_hash:
        record = {**_contact_record(write.fields, write.content_hash), **record}
    if existing is None:
        def commit(written: dict) -> bool:
            return contacts.put_new(tenant_key, contact_id, {**defaults, **written, "follow_users": write.entries})
    else:
        def commit(written: dict) -> bool:
            return contacts.merge_followers(tenant_key, contact_id, written, write.entries, defaults)
    return contact_writes.Change(tenant_key, contact_id, record, commit, before=existing, defaults=defaults,
                                 merged_followers=frozenset(write.entries), creating=existing is None)


def write_customers(tenant_key: str, writes: list[CustomerWrite], security_level: int, run_id: str) -> list[str]:
    """Write a page's changed customers; returns each one's outcome: ADDED for a new contact, UPDATED the first
    time a run changes an existing one, MERGED when this run had written it already. A new customer a callback
    made meanwhile is written again as an existing one."""
    outcomes: list[str | None] = [None] * len(writes)
    pending = list(enumerate(writes))
    while pending:
        results = contact_writes.write([_page_change(tenant_key, write, security_level, run_id)
                                        for _, write in pending])
        again = []
        for (index, write), written in zip(pending, results):
            if write.existing is None and not written:
                current = contacts.get(tenant_key, contacts.customer_contact_id(write.fields["external_userid"]))
                again.append((index, CustomerWrite(write.fields, write.entries, write.content_hash, current)))
            elif write.existing is None:
                outcomes[index] = ADDED
            else:
                outcomes[index] = MERGED if write.existing.sync_run == run_id else UPDATED
        pending = again
    return [outcome for outcome in outcomes if outcome is not None]


def unfollow(tenant: Tenant, external_userid: str, userid: str, run_id: str) -> str | None:
    """The member no longer follows the customer (or the customer is a team member): the contact loses the member,
    then the relation goes. A contact left with no member stays a customer until `inactivate_unfollowed` at the end
    of the run's customer phase: a later batch may still bring a member who follows it (a customer moved between
    members), and inactivating it in between would make it flicker. Returns UPDATED (counted once per run), MERGED,
    or None when the contact did not name the member (only a stale relation was removed)."""
    tenant_key, contact_id = tenant.tenant_key, contacts.customer_contact_id(external_userid)
    existing = contacts.get(tenant_key, contact_id)
    dropped = frozenset({userid})
    if existing is None or userid not in contacts.follower_ids(existing):
        contact_writes.write_one(contact_writes.Change(tenant_key, contact_id, {"external_userid": external_userid},
                                                       None, before=existing, dropped_followers=dropped))
        return None
    if not contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id, {"sync_run": run_id},
        lambda record: contacts.drop_follower(tenant_key, contact_id, userid, record),
        before=existing, dropped_followers=dropped,
    )):
        return None
    return MERGED if existing.sync_run == run_id else UPDATED


def inactivate_unfollowed(tenant: Tenant, run_id: str) -> tuple[int, int, int]:
    """End of a run's customer phase: customers no member follows any more become inactive (timestamped, not
    deleted; their shares stay). Returns (inactivated, of them counted as updated earlier in this run, active)."""
    inactivated = touched = active = 0
    for contact in contacts.customer_sweep(tenant.tenant_key):
        if contact.follow_users.as_dict():
            active += 1
        elif _inactivate(tenant.tenant_key, contact.contact_id):
            inactivated += 1
            touched += contact.sync_run == run_id
    return inactivated, touched, active


def _inactivate(tenant_key: str, contact_id: str) -> bool:
    """Flag a customer no member follows any more, with a timestamp; its shares and Yunqiao fields stay.
    Conditional on its follow map still being empty, so a member added meanwhile (a callback) wins."""
    stamp = clock.utcnow()
    return contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id, {"wecom_customer": False, "inactive_at": stamp, "content_hash": None,
                                 "updated_at": stamp},
        lambda record: contacts.update_if_unfollowed(tenant_key, contact_id, record),
    ))


def _count(counter: Counter, outcome: str | None) -> None:
    if outcome in (ADDED, UPDATED):
        counter[outcome] += 1
