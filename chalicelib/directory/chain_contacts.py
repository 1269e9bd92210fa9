"""Members of downstream corps (上下游) in the external directory: the one place that turns a downstream member, as the
app shared with that corp sees them, into a contact.

The tenant's app is shared along its chains; each downstream corp that accepted it lets the app read the members in
its visible range (`corpgroup/corp/gettoken`, then `user/list_id` and `user/get` with that corp's token). Each such
member is one contact, `chain_contact_id(corpid, userid)`, filed under the corp's organisation in the tenant's 上下游
dimension: the chain corp node the chain sync made for it (the first chain listing it, by node id), or — when no
synced chain lists the corp — an organisation of its own (`dorg#<corpid>`). WeCom owns the contact's name, position
and filing (a content hash decides whether anything changed, so an unchanged member costs a read and no write);
Yunqiao's own fields (shares, security level, account) stay the directory's. A member the corp no longer shows, or
every member of a corp that stopped sharing the app, is marked inactive with a timestamp, never deleted (its shares
and history stay), exactly as customers no member follows any more; one who comes back is active again.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from chalicelib.core import clock
from chalicelib.directory import contact_writes
from chalicelib.store import contacts, organisations
from chalicelib.store.organisations import NodeSpec
from chalicelib.store.tenants import Tenant

ADDED, UPDATED, UNCHANGED, INACTIVATED = "added", "updated", "unchanged", "inactivated"


@dataclass(frozen=True)
class CorpHome:
    """Where a downstream corp's members are filed: an organisation node and its name."""

    organisation_id: str
    name: str
    spec: NodeSpec | None = None  # the node to make sure of when it is the corp's own (not a chain's)


def homes(tenant_key: str) -> dict[str, CorpHome]:
    """corpid → the chain corp node its members are filed under: the first active, joined one in id order (a corp
    may sit in several chains; one contact, one organisation)."""
    found: dict[str, CorpHome] = {}
    for node in organisations.joined_chain_corps(tenant_key):
        corpid = contacts.raw_map(node.wecom).get("corpid")
        if corpid and corpid not in found:
            found[corpid] = CorpHome(node.node_id, node.name)
    return found


def own_home(corp: dict) -> CorpHome:
    """The organisation of a shared corp no synced chain lists, directly under the 上下游 dimension."""
    corpid = corp["corpid"]
    name = corp.get("corp_name") or corpid
    spec = NodeSpec(organisations.shared_corp_id(corpid), organisations.ORGANISATION, name,
                    organisations.CHAIN_DIMENSION_ID, organisations.CHAIN_DIMENSION_ID,
                    organisations.SOURCE_WECOM_CHAIN, {"corpid": corpid})
    return CorpHome(spec.node_id, name, spec)


def contact_fields(tenant: Tenant, corp: dict, home: CorpHome, member: dict) -> dict:
    """The directory's fields of a downstream member (what WeCom owns on the contact)."""
    return {
        "name": member.get("name") or member["userid"],
        "position": member.get("position") or None,
        "corp_name": corp.get("corp_name") or None,
        "organisation_id": home.organisation_id,
        "org_name": home.name,
        "dimension_id": organisations.CHAIN_DIMENSION_ID,
        "dimension_name": tenant.settings.chain_dimension_name,
    }


def content_hash(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def apply_members(tenant: Tenant, corp: dict, home: CorpHome, members: Iterable[dict], run_id: str) -> Counter:
    """Bring the contacts of a page of one corp's members in line (one BatchGet; writes only for what changed, and
    for members coming back after being inactive). Returns added / updated / unchanged counts."""
    tenant_key, corpid = tenant.tenant_key, corp["corpid"]
    by_id = {contacts.chain_contact_id(corpid, member["userid"]): member for member in members}
    stored = contacts.batch_get(tenant_key, by_id)
    counts: Counter = Counter()
    changes = []
    stamp = clock.utcnow()
    defaults = {"source": contacts.SOURCE_WECOM_CHAIN, "security_level": int(tenant.settings.default_security_level),
                "account_status": contacts.ACCOUNT_NONE, "created_at": stamp}
    for contact_id, member in by_id.items():
        fields = contact_fields(tenant, corp, home, member)
        digest = content_hash(fields)
        existing = stored.get(contact_id)
        if existing is not None and existing.content_hash == digest and existing.inactive_at is None:
            counts[UNCHANGED] += 1
            continue
        record = {**fields, "content_hash": digest, "inactive_at": None, "sync_run": run_id, "updated_at": stamp}
        changes.append(contact_writes.Change(
            tenant_key, contact_id, record,
            lambda written, contact_id=contact_id: contacts.upsert(tenant_key, contact_id, written, defaults),
            before=existing, defaults=defaults, creating=existing is None,
        ))
        counts[ADDED if existing is None else UPDATED] += 1
    contact_writes.write(changes)
    return counts


def inactivate_gone(tenant: Tenant, corpid: str, current: set[str]) -> int:
    """The corp's contacts whose member it no longer shows (left, or out of the app's visible range) become
    inactive. Returns how many."""
    prefix = contacts.chain_contacts_prefix(corpid)
    gone = [hit.contact_id for hit in contacts.active_chain_contacts(tenant.tenant_key, prefix)
            if hit.contact_id[len(prefix):] not in current]
    return sum(_inactivate(tenant.tenant_key, contact_id) for contact_id in gone)


def inactivate_unshared(tenant: Tenant, keep: set[str]) -> int:
    """Every contact of a corp not in `keep` (the corps the app is shared with, and those whose reading failed this
    run) becomes inactive: the corp stopped sharing the app, or left the chain. Returns how many."""
    gone = [hit.contact_id for hit in contacts.active_chain_contacts(tenant.tenant_key)
            if contacts.chain_contact_corp(hit.contact_id) not in keep]
    return sum(_inactivate(tenant.tenant_key, contact_id) for contact_id in gone)


def _inactivate(tenant_key: str, contact_id: str) -> bool:
    """Flag the contact with a timestamp; its shares and Yunqiao fields stay. The content hash goes, so the member
    coming back is written again (and active)."""
    stamp = clock.utcnow()
    return bool(contact_writes.write_one(contact_writes.Change(
        tenant_key, contact_id, {"inactive_at": stamp, "content_hash": None, "updated_at": stamp},
        lambda record: contacts.update_existing(tenant_key, contact_id, record),
    )))
