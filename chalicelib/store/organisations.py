"""The tree of the external directory (外部互联): dimensions (维度) → external organisations (外部组织) → departments (部门).

One item per node, keyed by tenantKey + nodeId. Every node names its parent and its dimension, so the directory's
permission rules (maintainers of a dimension) can be applied from any node without walking the tree.

Nodes the WeCom sync owns have ids derived from what WeCom identifies them by, so re-running the sync converges
on the same nodes instead of adding new ones:
- `dim#wecom-customers`, `dim#wecom-chains`: the two dimensions the sync fills (names come from tenant settings);
- `worg#wechat`: the default organisation of customers who are WeChat users; `worg#<hash of corp name>`: the
  organisation of customers who are WeCom users (WeCom gives their corp's name, never its corpid);
- `chain#<chain_id>`, `cgrp#<chain_id>#<groupid>`, `corg#<chain_id>#<corpid>` (`…#pending:<pending_corpid>` for a
  corp invited but not joined): an upstream/downstream chain, its groups and its corps;
- `dorg#<corpid>`: a downstream corp the tenant's app is shared with but that no synced chain lists (the chain APIs
  refused, say), so its members (上下游 contacts) still have an organisation.
A chain and its groups are nodes of kind `group`, between the 上下游 dimension and the corps' organisations: the
directory issue's three kinds plus this one, so an organisation can sit "under its chain and group". The prefixes
make each chain's groups and corps one Query (`begins_with`) when the sync looks for the ones WeCom stopped listing;
those are marked inactive with a timestamp, never deleted, because people may have filed contacts under them.

People add their own nodes in the back office (chalicelib/directory/tree.py: `dim-…`, `org-…`, `dep-…`). Every node
carries `parentKey` (`<tenantKey>#<parentId>`, the sync's too) so a node's children are one Query on `byParent`, and
the counts of what Yunqiao filed directly under it (`childCount`, `contactCount`), kept by the transactions that file
things, so a delete conditional on both being zero cannot race a new child or contact.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.core import clock
from chalicelib.store.base import TableModel, batch_get_in_tenant, conditional_update, table_meta, transact

DIMENSION, GROUP, ORGANISATION, DEPARTMENT = "dimension", "group", "organisation", "department"
SOURCE_WECOM_CUSTOMER = "wecom_customer"
SOURCE_WECOM_CHAIN = "wecom_chain"
ADDED, UPDATED, UNCHANGED = "added", "updated", "unchanged"

CUSTOMER_DIMENSION_ID = "dim#wecom-customers"
CHAIN_DIMENSION_ID = "dim#wecom-chains"
WECHAT_ORGANISATION_ID = "worg#wechat"
QUERY_PAGE = 500  # items per Query request: bounds what a sync holds while walking a chain's nodes


def customer_corp_id(corp_name: str) -> str:
    return "worg#" + hashlib.sha256(corp_name.encode("utf-8")).hexdigest()[:24]


CHAINS_PREFIX = "chain#"


def chain_node_id(chain_id: str) -> str:
    return f"{CHAINS_PREFIX}{chain_id}"


def chain_groups_prefix(chain_id: str) -> str:
    return f"cgrp#{chain_id}#"


def chain_group_id(chain_id: str, groupid: int | str) -> str:
    return f"{chain_groups_prefix(chain_id)}{groupid}"


CHAIN_CORPS_PREFIX = "corg#"


def chain_corps_prefix(chain_id: str) -> str:
    return f"{CHAIN_CORPS_PREFIX}{chain_id}#"


def chain_corp_id(chain_id: str, corpid: str, pending: bool) -> str:
    return f"{chain_corps_prefix(chain_id)}{'pending:' if pending else ''}{corpid}"


SHARED_CORPS_PREFIX = "dorg#"


def shared_corp_id(corpid: str) -> str:
    """The organisation of a downstream corp the app is shared with that no synced chain lists (yet)."""
    return f"{SHARED_CORPS_PREFIX}{corpid}"


def parent_key(tenant_key: str, parent_id: str | None) -> str:
    """Hash key of `byParent`: a node's siblings share it; the dimensions (no parent) share `<tenantKey>#`."""
    return f"{tenant_key}#{parent_id or ''}"


class ParentIndex(GlobalSecondaryIndex):
    """A node's children (and the tenant's dimensions) in one Query."""

    class Meta:
        index_name = "byParent"
        projection = AllProjection()

    parent_key = UnicodeAttribute(hash_key=True, attr_name="parentKey")
    node_id = UnicodeAttribute(range_key=True, attr_name="nodeId")


class Node(TableModel):
    Meta = table_meta("organisations")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    node_id = UnicodeAttribute(range_key=True, attr_name="nodeId")
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    parent_id = UnicodeAttribute(null=True, attr_name="parentId")
    dimension_id = UnicodeAttribute(attr_name="dimensionId")
    source = UnicodeAttribute()
    # What WeCom identifies the node by (chain_id, groupid, corpid or pending_corpid, custom_id, invite_userid, order).
    wecom = MapAttribute(null=True)
    pending = BooleanAttribute(default=False)
    inactive_at = UTCDateTimeAttribute(null=True, attr_name="inactiveAt")
    content_hash = UnicodeAttribute(null=True, attr_name="contentHash")
    created_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="updatedAt")
    parent_key = UnicodeAttribute(null=True, attr_name="parentKey")
    # A department's organisation (departments may nest); None on other kinds.
    organisation_id = UnicodeAttribute(null=True, attr_name="organisationId")
    # Children and contacts filed directly under the node by Yunqiao's own writers (transactions keep them exact):
    # a node is deleted with a condition that both are zero, so nothing can be filed under it meanwhile.
    child_count = NumberAttribute(null=True, attr_name="childCount")
    contact_count = NumberAttribute(null=True, attr_name="contactCount")

    by_parent = ParentIndex()


@dataclass(frozen=True)
class NodeSpec:
    """A node as WeCom describes it now; `digest` decides whether the stored one must be written."""

    node_id: str
    kind: str
    name: str
    parent_id: str | None
    dimension_id: str
    source: str
    wecom: dict = field(default_factory=dict)
    pending: bool = False

    def digest(self) -> str:
        content = [self.kind, self.name, self.parent_id, self.dimension_id, self.source, self.wecom, self.pending]
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def get(tenant_key: str, node_id: str) -> Node | None:
    try:
        return Node.get(tenant_key, node_id, consistent_read=True)
    except DoesNotExist:
        return None


def batch_get(tenant_key: str, node_ids: Iterable[str]) -> dict[str, Node]:
    """The existing nodes among these ids, by id."""
    return batch_get_in_tenant(Node, tenant_key, node_ids, "node_id")


def needs_write(spec: NodeSpec, existing: Node | None) -> bool:
    """Also when the stored node predates the `byParent` index (no parentKey): the next sync files it there."""
    return (
        existing is None
        or existing.content_hash != spec.digest()
        or existing.inactive_at is not None
        or existing.parent_key != parent_key(existing.tenant_key, spec.parent_id)
    )


def upsert(tenant_key: str, spec: NodeSpec, existing: Node | None) -> str:
    """Write the node if WeCom's view of it changed (or it was inactive); attributes people maintain stay."""
    if not needs_write(spec, existing):
        return UNCHANGED
    stamp = clock.utcnow()
    Node(tenant_key, spec.node_id).update(
        actions=[
            Node.kind.set(spec.kind),
            Node.name.set(spec.name),
            Node.parent_id.set(spec.parent_id) if spec.parent_id else Node.parent_id.remove(),
            Node.parent_key.set(parent_key(tenant_key, spec.parent_id)),
            Node.dimension_id.set(spec.dimension_id),
            Node.source.set(spec.source),
            Node.wecom.set(spec.wecom),
            Node.pending.set(spec.pending),
            Node.inactive_at.remove(),
            Node.content_hash.set(spec.digest()),
            Node.created_at.set(Node.created_at | stamp),
            Node.updated_at.set(stamp),
        ]
    )
    return ADDED if existing is None else UPDATED


def inactivate(tenant_key: str, node_id: str) -> bool:
    """Mark a node WeCom no longer lists; False when it is already inactive (or gone)."""
    stamp = clock.utcnow()
    return conditional_update(
        Node(tenant_key, node_id),
        [Node.inactive_at.set(stamp), Node.updated_at.set(stamp)],
        Node.node_id.exists() & Node.inactive_at.does_not_exist(),
    )


def active_ids_with_prefix(tenant_key: str, prefix: str) -> Iterator[str]:
    """Ids of the active nodes whose id starts with `prefix` (a chain's groups or corps, or every chain)."""
    for node in Node.query(
        tenant_key,
        range_key_condition=Node.node_id.startswith(prefix),
        filter_condition=Node.inactive_at.does_not_exist(),
        attributes_to_get=["nodeId"],
        consistent_read=True,
        page_size=QUERY_PAGE,
    ):
        yield node.node_id


def joined_chain_corps(tenant_key: str) -> Iterator[Node]:
    """The active, joined corps of every chain (id, name and WeCom ids), in id order: one Query per call."""
    return Node.query(
        tenant_key,
        range_key_condition=Node.node_id.startswith(CHAIN_CORPS_PREFIX),
        filter_condition=Node.inactive_at.does_not_exist() & (Node.pending == False),  # noqa: E712 (a condition)
        attributes_to_get=["nodeId", "name", "wecom"],
        consistent_read=True,
        page_size=QUERY_PAGE,
    )


class NodeWriter:
    """Upserts nodes for one sync invocation, remembering (up to `capacity`) the ones already known to be current.

    Customers name their organisation page after page; the memory makes that one BatchGet for the first page and
    nothing after, and its bound keeps memory flat however many distinct corps the customers come from.
    """

    def __init__(self, tenant_key: str, capacity: int = 4096) -> None:
        self.tenant_key = tenant_key
        self.capacity = capacity
        self._current: dict[str, str] = {}

    def write(self, specs: Iterable[NodeSpec]) -> dict[str, int]:
        """Outcome counts (added/updated/unchanged) of the specs not already known to be current."""
        todo = {spec.node_id: spec for spec in specs if self._current.get(spec.node_id) != spec.digest()}
        outcomes = {ADDED: 0, UPDATED: 0, UNCHANGED: 0}
        if not todo:
            return outcomes
        existing = batch_get(self.tenant_key, todo)
        for node_id, spec in todo.items():
            outcomes[upsert(self.tenant_key, spec, existing.get(node_id))] += 1
            if len(self._current) >= self.capacity:
                self._current.clear()
            self._current[node_id] = spec.digest()
        return outcomes


# --- nodes people maintain (the directory's back office) ------------------------------------------------------------
SOURCE_MANUAL = "manual"
SYNCED_SOURCES = frozenset({SOURCE_WECOM_CUSTOMER, SOURCE_WECOM_CHAIN})


def _count_child(transaction, tenant_key: str, parent_id: str | None, delta: int) -> None:
    if parent_id:
        transaction.update(Node(tenant_key, parent_id), actions=[Node.child_count.add(delta)],
                           condition=Node.node_id.exists())


def count_contacts_in(transaction, tenant_key: str, node_id: str | None, delta: int) -> None:
    """Keep the count of contacts filed directly under a node, as one action of the contact's transaction (only
    when the node still exists, so a node deleted meanwhile cancels the write instead of coming back as a bare
    counter)."""
    if node_id:
        transaction.update(Node(tenant_key, node_id), actions=[Node.contact_count.add(delta)],
                           condition=Node.node_id.exists())


def _is_empty():
    return ((Node.child_count.does_not_exist() | (Node.child_count == 0))
            & (Node.contact_count.does_not_exist() | (Node.contact_count == 0)))


def create_manual(node: Node) -> bool:
    """Put a new node and count it on its parent (which must still exist), in one transaction."""
    node.parent_key = parent_key(node.tenant_key, node.parent_id)
    return transact(lambda tx: (
        tx.save(node, condition=Node.node_id.does_not_exist()),
        _count_child(tx, node.tenant_key, node.parent_id, 1),
    )).committed


def rename(tenant_key: str, node_id: str, name: str) -> bool:
    return conditional_update(Node(tenant_key, node_id), [Node.name.set(name), Node.updated_at.set(clock.utcnow())],
                              Node.node_id.exists())


def move(tenant_key: str, node: Node, new_parent_id: str, dimension_id: str, organisation_id: str | None) -> bool:
    """Re-parent a node (its dimension and, for a department, its organisation follow the new parent), moving the
    child count from the old parent to the new one; conditional on the node not having moved meanwhile."""
    actions = [
        Node.parent_id.set(new_parent_id),
        Node.parent_key.set(parent_key(tenant_key, new_parent_id)),
        Node.dimension_id.set(dimension_id),
        Node.organisation_id.set(organisation_id) if organisation_id else Node.organisation_id.remove(),
        Node.updated_at.set(clock.utcnow()),
    ]
    return transact(lambda tx: (
        tx.update(Node(tenant_key, node.node_id), actions=actions,
                  condition=Node.node_id.exists() & (Node.parent_id == node.parent_id)),
        _count_child(tx, tenant_key, node.parent_id, -1),
        _count_child(tx, tenant_key, new_parent_id, 1),
    )).committed


def set_dimension(tenant_key: str, node_id: str, dimension_id: str) -> None:
    """A descendant of a node moved to another dimension follows it."""
    conditional_update(Node(tenant_key, node_id),
                       [Node.dimension_id.set(dimension_id), Node.updated_at.set(clock.utcnow())],
                       Node.node_id.exists())


def delete_if_empty(node: Node) -> bool:
    """Delete the node if nothing is filed under it (no children, no contacts), uncounting it from its parent;
    False when something is (or the node is gone)."""
    return transact(lambda tx: (
        tx.delete(Node(node.tenant_key, node.node_id), condition=Node.node_id.exists() & _is_empty()),
        _count_child(tx, node.tenant_key, node.parent_id, -1),
    )).committed


def count_children(tenant_key: str, parent_id: str) -> int:
    """How many nodes sit directly under a node: one Query with Select=COUNT on `byParent`."""
    return Node.by_parent.count(parent_key(tenant_key, parent_id))


def children_page(tenant_key: str, parent_id: str | None, start_key: dict | None, limit: int
                  ) -> tuple[list[Node], dict | None]:
    """One Query on `byParent`: up to `limit` children of a node (the dimensions when `parent_id` is None)."""
    results = Node.by_parent.query(parent_key(tenant_key, parent_id), page_size=limit, last_evaluated_key=start_key)
    raw = next(results.page_iter)
    return [Node.from_raw_data(item) for item in raw.get("Items", [])], results.page_iter.last_evaluated_key


def children(tenant_key: str, parent_id: str) -> Iterator[Node]:
    """Every child of a node (paged Queries on `byParent`)."""
    return Node.by_parent.query(parent_key(tenant_key, parent_id), page_size=QUERY_PAGE)
