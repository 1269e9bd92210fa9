"""The tree of the external directory (外部互联): dimensions (维度) → external organisations (外部组织) → departments (部门).

One item per node, keyed by tenantKey + nodeId. Every node names its parent and its dimension, so the directory's
permission rules (maintainers of a dimension) can be applied from any node without walking the tree.

Nodes the WeCom sync owns have ids derived from what WeCom identifies them by, so re-running the sync converges
on the same nodes instead of adding new ones:
- `dim#wecom-customers`, `dim#wecom-chains`: the two dimensions the sync fills (names come from tenant settings);
- `worg#wechat`: the default organisation of customers who are WeChat users; `worg#<hash of corp name>`: the
  organisation of customers who are WeCom users (WeCom gives their corp's name, never its corpid);
- `chain#<chain_id>`, `cgrp#<chain_id>#<groupid>`, `corg#<chain_id>#<corpid>` (`…#pending:<pending_corpid>` for a
  corp invited but not joined): an upstream/downstream chain, its groups and its corps.
A chain and its groups are nodes of kind `group`, between the 上下游 dimension and the corps' organisations: the
directory issue's three kinds plus this one, so an organisation can sit "under its chain and group". The prefixes
make each chain's groups and corps one Query (`begins_with`) when the sync looks for the ones WeCom stopped listing;
those are marked inactive with a timestamp, never deleted, because people may have filed contacts under them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator

from pynamodb.attributes import BooleanAttribute, MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.store.base import batch_get_in_tenant, conditional_update, table_meta

DIMENSION, GROUP, ORGANISATION, DEPARTMENT = "dimension", "group", "organisation", "department"
SOURCE_WECOM_CUSTOMER = "wecom_customer"
SOURCE_WECOM_CHAIN = "wecom_chain"
ADDED, UPDATED, UNCHANGED = "added", "updated", "unchanged"

CUSTOMER_DIMENSION_ID = "dim#wecom-customers"
CHAIN_DIMENSION_ID = "dim#wecom-chains"
WECHAT_ORGANISATION_ID = "worg#wechat"
QUERY_PAGE = 500  # items per Query request: bounds what a sync holds while walking a chain's nodes


def now() -> datetime:
    return datetime.now(timezone.utc)


def customer_corp_id(corp_name: str) -> str:
    return "worg#" + hashlib.sha256(corp_name.encode("utf-8")).hexdigest()[:24]


CHAINS_PREFIX = "chain#"


def chain_node_id(chain_id: str) -> str:
    return f"{CHAINS_PREFIX}{chain_id}"


def chain_groups_prefix(chain_id: str) -> str:
    return f"cgrp#{chain_id}#"


def chain_group_id(chain_id: str, groupid: int | str) -> str:
    return f"{chain_groups_prefix(chain_id)}{groupid}"


def chain_corps_prefix(chain_id: str) -> str:
    return f"corg#{chain_id}#"


def chain_corp_id(chain_id: str, corpid: str, pending: bool) -> str:
    return f"{chain_corps_prefix(chain_id)}{'pending:' if pending else ''}{corpid}"


class Node(Model):
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
    created_at = UTCDateTimeAttribute(default=now, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=now, attr_name="updatedAt")


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


def batch_get(tenant_key: str, node_ids: Iterable[str]) -> dict[str, Node]:
    """The existing nodes among these ids, by id."""
    return batch_get_in_tenant(Node, tenant_key, node_ids, "node_id")


def needs_write(spec: NodeSpec, existing: Node | None) -> bool:
    return existing is None or existing.content_hash != spec.digest() or existing.inactive_at is not None


def upsert(tenant_key: str, spec: NodeSpec, existing: Node | None) -> str:
    """Write the node if WeCom's view of it changed (or it was inactive); attributes people maintain stay."""
    if not needs_write(spec, existing):
        return UNCHANGED
    stamp = now()
    Node(tenant_key, spec.node_id).update(
        actions=[
            Node.kind.set(spec.kind),
            Node.name.set(spec.name),
            Node.parent_id.set(spec.parent_id) if spec.parent_id else Node.parent_id.remove(),
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
    stamp = now()
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
