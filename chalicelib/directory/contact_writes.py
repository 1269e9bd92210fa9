"""The one write path of a contact: every writer — directory edits, the WeCom sync and callbacks, invitations,
accounts and applications — hands its change to `write`.

A contact is three tables that must agree: the contact itself, the front list's index `contact-access` (one entry
per member the contact is on the front list of, showing its list fields) and, for WeCom customers, the
`customer-follows` index (one relation per member following it). The sync, the callbacks and the directory each
change a contact for their own reasons, and the indexes stay whole only if all of them derive the same keys, put
the same members on the front list, show the same entry and write in the same order. So those rules live here
once, and a writer says only what changes (`Change.fields`, in model attribute names) and which guarded store
operation makes the write (`Change.commit`: a version check, an expected account status, "must not exist yet"…).

The order keeps each index a superset of what the contacts name: entries and relations are put before the contact
names a member (or shows new list fields), and deleted only after it stopped. Deleting re-reads the contact and
puts back whatever a concurrent writer made current again, so an index never misses an entry; at worst it briefly
holds a stale one, which reveals nothing (opening a contact checks the contact itself). A write whose condition
failed leaves behind nothing it put that the stored contact does not call for.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib.core import clock
from chalicelib.store import contact_access
from chalicelib.store import contacts as store
from chalicelib.store.contacts import Contact

# The attributes a front-list entry or a front-list membership is computed from.
FRONT_LIST_INPUTS = frozenset({
    "adder_id", "visible_members", "share_list", "follow_users", "name", "organisation_id", "org_name", "position",
    "mobile", "email", "source", "external_userid",
})
_KEY_INPUTS = frozenset({"organisation_id", "department_id", "dimension_id", "unionid", "peer_tenant_key",
                         "peer_user_id"})
_MAPS = frozenset({"share_list", "follow_users"})


# --- the rules ------------------------------------------------------------------------------------------------------
def front_list_members(adder_id: str | None, visible_members: Iterable[str] | None, share_list: Mapping | None,
                       followers: Iterable[str]) -> frozenset[str]:
    """Who has the contact on their front list (外部互联), and so may see it: its adder, visible members, share list
    and (WeCom customers) the members who follow it."""
    members = set(visible_members or ()) | set(share_list or {}) | set(followers)
    if adder_id:
        members.add(adder_id)
    return frozenset(members)


def members_of(contact: Contact | None) -> frozenset[str]:
    """`front_list_members` of a stored contact."""
    if contact is None:
        return frozenset()
    return front_list_members(contact.adder_id, contact.visible_members, store.raw_map(contact.share_list),
                              store.follower_ids(contact))


def front_list_entry(contact_id: str, view: Mapping[str, Any]) -> dict:
    """What every front-list entry of a contact shows (`view`: its attributes by model name)."""
    return {
        "contactId": contact_id,
        "name": view.get("name"),
        "organisationId": view.get("organisation_id") or None,
        "orgName": view.get("org_name") or None,
        "position": view.get("position") or None,
        "mobile": view.get("mobile") or None,
        "email": view.get("email") or None,
        "source": view.get("source") or None,
    }


def index_keys(tenant_key: str, contact_id: str, view: Mapping[str, Any], changed: Iterable[str]) -> dict:
    """The keys of the contact's `byOrganisation`, `byDimension`, `byUnion` and `byPeer` index entries that follow
    from the `changed` attributes (None: the contact leaves that index). Filed under no organisation, a contact is
    in neither the organisation's nor a department's listing; only a contact naming both the other tenant and its
    member is in `byPeer`."""
    changed = set(changed)
    keys: dict[str, str | None] = {}
    if changed & {"organisation_id", "department_id"}:
        organisation_id = view.get("organisation_id")
        keys["organisation_key"] = store.organisation_key(tenant_key, organisation_id) if organisation_id else None
        keys["place_key"] = store.place_key(view.get("department_id"), contact_id) if organisation_id else None
    if "dimension_id" in changed:
        dimension_id = view.get("dimension_id")
        keys["dimension_key"] = store.dimension_key(tenant_key, dimension_id) if dimension_id else None
    if "unionid" in changed:
        unionid = view.get("unionid")
        keys["union_key"] = store.union_key(tenant_key, unionid) if unionid else None
    if changed & {"peer_tenant_key", "peer_user_id"}:
        peer_tenant, peer_user = view.get("peer_tenant_key"), view.get("peer_user_id")
        keys["peer_key"] = store.peer_key(peer_tenant, peer_user) if peer_tenant and peer_user else None
    return keys


@dataclass(frozen=True)
class Indexed:
    """What the two indexes hold for one contact: its front-list members and entry, and who follows it."""

    contact_id: str
    members: frozenset[str]
    entry: dict
    followers: frozenset[str] = frozenset()
    external_userid: str | None = None

    def entry_keys(self) -> set[tuple[str, str]]:
        key = contact_access.entry_key(self.entry["organisationId"], self.contact_id)
        return {(user_id, key) for user_id in self.members}

    def follows(self) -> set[tuple[str, str]]:
        if not self.external_userid:
            return set()
        return {(user_id, self.external_userid) for user_id in self.followers}


def indexed(contact_id: str, view: Mapping[str, Any]) -> Indexed:
    """What the indexes hold for a contact with these attributes."""
    followers = frozenset(view.get("follow_users") or {})
    return Indexed(
        contact_id,
        front_list_members(view.get("adder_id"), view.get("visible_members"), view.get("share_list"), followers),
        front_list_entry(contact_id, view),
        followers,
        view.get("external_userid"),
    )


def _stored(contact: Contact | None, name: str) -> Any:
    value = getattr(contact, name, None) if contact is not None else None
    return store.raw_map(value) if name in _MAPS and value is not None else value


def view_after(before: Contact | None, fields: Mapping[str, Any], defaults: Mapping[str, Any] | None = None,
               merged_followers: Iterable[str] = (), dropped_followers: Iterable[str] = ()) -> dict:
    """The attributes the indexes depend on, as they will be once the write is made: `fields` over the stored
    contact, `defaults` where it has no value, the follow map merged into or trimmed."""
    view = {}
    for name in FRONT_LIST_INPUTS | _KEY_INPUTS:
        if name in fields:
            view[name] = fields[name]
        else:
            stored = _stored(before, name)
            view[name] = stored if stored is not None else (defaults or {}).get(name)
    followers = (set(view["follow_users"] or {}) | set(merged_followers)) - set(dropped_followers)
    view["follow_users"] = {user_id: {} for user_id in followers}
    return view


def stored_indexed(contact: Contact | None) -> Indexed | None:
    """What the indexes should hold for a stored contact (None for a missing one)."""
    return indexed(contact.contact_id, view_after(contact, {})) if contact is not None else None


# --- the path -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One write of one contact.

    `fields` are what the write sets (None removes), in model attribute names; `commit(record)` makes it with one
    store operation (or a transaction), given `fields` plus the index keys derived from them and the time stamp,
    and answers whether it was made (or, for a write that no index depends on, whatever its caller needs).
    `commit` None: the contact is not written, only its indexes brought in line (a stale follow relation).
    `before` is the contact as the writer read it; it may be None for a write no index depends on. `defaults`
    are values the store writes only where the contact has none (what a new customer starts with);
    `merged_followers` / `dropped_followers` are the members the store adds to / removes from the follow map
    without replacing it (the sync's path).
    """

    tenant_key: str
    contact_id: str
    fields: Mapping[str, Any]
    commit: Callable[[dict], Any] | None
    before: Contact | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    merged_followers: frozenset[str] = frozenset()
    dropped_followers: frozenset[str] = frozenset()
    creating: bool = False
    deleting: bool = False

    def touches_indexes(self) -> bool:
        return bool(self.creating or self.deleting or self.merged_followers or self.dropped_followers
                    or FRONT_LIST_INPUTS & set(self.fields))


@dataclass
class _Plan:
    change: Change
    record: dict
    before: Indexed | None = None
    after: Indexed | None = None
    put_entries: set[tuple[str, str]] = field(default_factory=set)
    put_follows: set[tuple[str, str]] = field(default_factory=set)


def _plan(change: Change) -> _Plan:
    view = view_after(change.before, change.fields, change.defaults, change.merged_followers,
                      change.dropped_followers)
    record = dict(change.fields)
    record.update(index_keys(change.tenant_key, change.contact_id, view, change.fields))
    if not change.deleting:
        record.setdefault("updated_at", clock.utcnow())
    plan = _Plan(change, record)
    if not change.touches_indexes():
        return plan
    plan.before = stored_indexed(change.before)
    plan.after = None if change.deleting else indexed(change.contact_id, view)
    before, after = plan.before, plan.after
    if after is not None:
        new_members = after.members if before is None or before.entry != after.entry else (
            after.members - before.members)
        plan.put_entries = {key for key in after.entry_keys() if key[0] in new_members}
        plan.put_follows = after.follows() - (before.follows() if before else set())
    return plan


def _by_tenant(plans: list[_Plan]) -> dict[str, list[_Plan]]:
    grouped: dict[str, list[_Plan]] = {}
    for plan in plans:
        grouped.setdefault(plan.change.tenant_key, []).append(plan)
    return grouped


def _put_phase(plans: list[_Plan]) -> None:
    """Before any contact is written: the new follow relations, then the new or changed front-list entries, in
    batches for the whole set of changes (a sync page is one or two BatchWriteItem requests per 25)."""
    for tenant_key, group in _by_tenant(plans).items():
        store.put_follows(tenant_key, sorted(pair for plan in group for pair in plan.put_follows))
        contact_access.put_entries(tenant_key, [
            (user_id, plan.after.entry) for plan in group for user_id, _key in sorted(plan.put_entries)
        ])


def _retire_phase(plan: _Plan, written: bool) -> None:
    """After the contact's write: delete what it no longer calls for — or, when the write was refused, what this
    change put that the stored contact does not call for — then put back whatever the contact, read again, calls
    for after all (a concurrent writer made it current)."""
    change, before, after = plan.change, plan.before, plan.after
    entries = (before.entry_keys() if before else set()) - (after.entry_keys() if after else set())
    follows = (before.follows() if before else set()) - (after.follows() if after else set())
    external_userid = (after or before).external_userid if (after or before) else None
    if external_userid:
        follows |= {(user_id, external_userid) for user_id in change.dropped_followers}
    if not written:
        entries |= plan.put_entries
        follows |= plan.put_follows
        if entries or follows:
            current = stored_indexed(store.get(change.tenant_key, change.contact_id))
            if current is not None:
                entries -= current.entry_keys()
                follows -= current.follows()
    if not entries and not follows:
        return
    tenant_key = change.tenant_key
    contact_access.delete_entries(tenant_key, sorted(entries))
    store.delete_follows(tenant_key, sorted(follows))
    current = stored_indexed(store.get(tenant_key, change.contact_id))
    if current is None:
        return
    store.put_follows(tenant_key, sorted(follows & current.follows()))
    contact_access.put_entries(tenant_key, [(user_id, current.entry)
                                            for user_id, _key in sorted(entries & current.entry_keys())])


def write(changes: Sequence[Change]) -> list[Any]:
    """Make these contact writes, keeping the indexes whole: derive each contact's index keys, put the follow
    relations and front-list entries the writes will call for (batched across the changes), make each write
    (`Change.commit`), then retire what each no longer calls for. Returns each commit's answer, in order."""
    plans = [_plan(change) for change in changes]
    indexed_plans = [plan for plan in plans if plan.before is not None or plan.after is not None]
    _put_phase(indexed_plans)
    results = [plan.change.commit(plan.record) if plan.change.commit is not None else True for plan in plans]
    for plan, result in zip(plans, results):
        if plan.before is not None or plan.after is not None:
            _retire_phase(plan, bool(result))
    return results


def write_one(change: Change) -> Any:
    """`write` for one change."""
    return write([change])[0]


def move_account_status(tenant_key: str, contact_id: str, status: str, status_in: tuple[str, ...],
                        transaction: Callable[[Callable[[Any], None]], Any], *, account_name: str | None = None,
                        at: datetime | None = None) -> Any:
    """Move the contact's accountStatus (and account name) from one of `status_in` to `status` together with a
    write of the accounts or applications table: `transaction(contact_side)` makes that write with the contact's
    side added to its transaction, so the directory's view of an account never disagrees with the account. Answers
    what `transaction` answers."""
    fields: dict[str, Any] = {"account_status": status}
    if account_name is not None:
        fields["account_name"] = account_name
    if at is not None:
        fields["updated_at"] = at
    return write_one(Change(tenant_key, contact_id, fields, lambda record: transaction(
        lambda tx: store.update_status_in(tx, tenant_key, contact_id, record, status_in))))
