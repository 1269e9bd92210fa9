"""The directory's tree in the back office: dimensions (维度) → organisations (外部组织) → departments (部门).

Admins and 外部互联维护 holders manage the whole tree; a dimension's maintainers manage what lies inside their
dimension (its organisations and departments, and renaming it). Every member of the team may read the tree: it is
how a contact is filed when it is created.

Nodes the WeCom sync owns (ids with '#', source wecom_*) are WeCom's: renaming, moving or deleting them is refused
(409 `node_synced`) because the next sync would undo it; people may still file their own organisations, departments
and contacts under them. A node is deleted only while nothing is filed under it — the node carries counts of its
children and contacts, kept by the same transactions that file things under it, and the delete is conditional on
both being zero (409 `node_has_children`).
"""
from __future__ import annotations

import secrets

from chalicelib.core import cursors
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.auth.identity import Caller
from chalicelib.directory import contact_writes, validation
from chalicelib.store import contacts as contact_store
from chalicelib.store import organisations as store
from chalicelib.store.organisations import DEPARTMENT, DIMENSION, GROUP, ORGANISATION, Node

KINDS = (DIMENSION, ORGANISATION, DEPARTMENT)
ID_PREFIX = {DIMENSION: "dim", ORGANISATION: "org", DEPARTMENT: "dep"}
# Which kinds of parent each kind may sit under (a WeCom chain's groups are `group` nodes).
PARENTS = {DIMENSION: (), ORGANISATION: (DIMENSION, GROUP), DEPARTMENT: (ORGANISATION, DEPARTMENT)}
MAX_NAME, MAX_NODE_ID, MAX_DEPTH = 64, 160, 32
PAGE_DEFAULT, PAGE_MAX = 100, 200


def node_not_found(node_id: str) -> NotFound:
    return NotFound(f"no node {node_id!r} in this directory", code="node_not_found")


def get_node(caller: Caller, node_id: str) -> Node:
    node = store.get(caller.tenant_key, node_id) if node_id and len(node_id) <= MAX_NODE_ID else None
    if node is None:
        raise node_not_found(node_id)
    return node


def describe(node: Node) -> dict:
    """The node as the API shows it. The sync writes its nodes and contacts without the counters Yunqiao's own writes
    keep, so a synced node's counts are read instead: its children from `byParent`, a synced organisation's contacts
    from the contacts' `byOrganisation` index (one COUNT Query each)."""
    synced = node.source in store.SYNCED_SOURCES
    synced_organisation = synced and node.kind == ORGANISATION
    return {
        "nodeId": node.node_id,
        "kind": node.kind,
        "name": node.name,
        "parentId": node.parent_id,
        "dimensionId": node.dimension_id,
        "organisationId": node.organisation_id if node.kind == DEPARTMENT else (
            node.node_id if node.kind == ORGANISATION else None),
        "source": node.source,
        "synced": node.source in store.SYNCED_SOURCES,
        "pending": bool(node.pending),
        "inactiveAt": node.inactive_at.isoformat() if node.inactive_at else None,
        "childCount": store.count_children(node.tenant_key, node.node_id) if synced else int(node.child_count or 0),
        "contactCount": (contact_store.count_filed_directly(node.tenant_key, node.node_id) if synced_organisation
                         else int(node.contact_count or 0)),
        "createdAt": node.created_at.isoformat() if node.created_at else None,
        "updatedAt": node.updated_at.isoformat() if node.updated_at else None,
    }


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        raise BadRequest(f"name must be 1 to {MAX_NAME} characters", code="invalid_name")
    return value.strip()


def _require_maintainer(caller: Caller, dimension_id: str | None) -> None:
    if not caller.maintains(dimension_id):
        raise Forbidden("only admins, 外部互联维护 holders and this dimension's maintainers manage it",
                        code="maintainer_required")


def _require_directory_maintainer(caller: Caller) -> None:
    if not caller.is_directory_maintainer:
        raise Forbidden("only admins and 外部互联维护 holders manage dimensions", code="directory_maintainer_required")


def _refuse_synced(node: Node) -> None:
    if node.source in store.SYNCED_SOURCES:
        raise Conflict("this node is kept in step with WeCom by the sync, which would undo the change",
                       code="node_synced")


def _parent(caller: Caller, kind: str, parent_id: object) -> Node | None:
    if kind == DIMENSION:
        if parent_id:
            raise BadRequest("a dimension has no parent", code="invalid_parent")
        return None
    if not isinstance(parent_id, str) or not parent_id:
        raise BadRequest(f"an {kind} needs a parentId", code="invalid_parent")
    parent = store.get(caller.tenant_key, parent_id) if len(parent_id) <= MAX_NODE_ID else None
    if parent is None:
        raise BadRequest(f"no node {parent_id!r} in this directory", code="parent_not_found")
    if parent.kind not in PARENTS[kind]:
        raise BadRequest(f"an {kind} goes under a {' or '.join(PARENTS[kind])}, not a {parent.kind}",
                         code="invalid_parent")
    return parent


def _organisation_of(kind: str, parent: Node | None) -> str | None:
    """A department's organisation: its parent, or its parent department's organisation."""
    if kind != DEPARTMENT or parent is None:
        return None
    return parent.node_id if parent.kind == ORGANISATION else parent.organisation_id


def create_node(caller: Caller, body: dict) -> Node:
    """A manual dimension (admins, 外部互联维护), organisation or department (maintainers of the dimension)."""
    kind = body.get("kind")
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}", code="invalid_kind")
    name = _name(body.get("name"))
    parent = _parent(caller, kind, body.get("parentId"))
    if parent is None:
        _require_directory_maintainer(caller)
    else:
        _require_maintainer(caller, parent.dimension_id)
    node_id = f"{ID_PREFIX[kind]}-{secrets.token_hex(8)}"
    node = Node(
        caller.tenant_key,
        node_id,
        kind=kind,
        name=name,
        parent_id=parent.node_id if parent else None,
        dimension_id=parent.dimension_id if parent else node_id,
        organisation_id=_organisation_of(kind, parent),
        source=store.SOURCE_MANUAL,
    )
    if not store.create_manual(node):
        raise BadRequest("the parent was deleted meanwhile", code="parent_not_found")
    return node


def update_node(caller: Caller, node_id: str, body: dict) -> Node:
    """Rename (`name`) and/or move (`parentId`) a manual node. Moving an organisation to another dimension carries
    its departments and contacts along (their dimension changes, and with it who maintains them); a department
    moves only within its organisation."""
    node = get_node(caller, node_id)
    validation.check_fields(body, ("name", "parentId"))
    _require_maintainer(caller, node.dimension_id)
    _refuse_synced(node)
    if "parentId" in body and body["parentId"] != node.parent_id:
        node = _move(caller, node, body["parentId"])
    if "name" in body:
        name = _name(body["name"])
        if name != node.name:
            if not store.rename(caller.tenant_key, node.node_id, name):
                raise node_not_found(node_id)
            if node.kind == ORGANISATION:
                _cascade_org_name(caller.tenant_key, node.node_id, name)
    return store.get(caller.tenant_key, node.node_id) or node


def _move(caller: Caller, node: Node, parent_id: object) -> Node:
    if node.kind == DIMENSION:
        raise BadRequest("a dimension has no parent", code="invalid_parent")
    parent = _parent(caller, node.kind, parent_id)
    _require_maintainer(caller, parent.dimension_id)
    organisation_id = _organisation_of(node.kind, parent)
    if node.kind == DEPARTMENT:
        if organisation_id != node.organisation_id:
            raise BadRequest("a department moves only within its organisation", code="invalid_parent")
        _refuse_cycle(caller.tenant_key, node.node_id, parent)
    if not store.move(caller.tenant_key, node, parent.node_id, parent.dimension_id, organisation_id):
        raise Conflict("the node was moved or deleted meanwhile: reload and try again", code="node_changed")
    if parent.dimension_id != node.dimension_id:
        _cascade_dimension(caller.tenant_key, node, parent.dimension_id)
    return store.get(caller.tenant_key, node.node_id) or node


def _refuse_cycle(tenant_key: str, node_id: str, parent: Node) -> None:
    """A department cannot go under itself or one of its own departments."""
    current: Node | None = parent
    for _ in range(MAX_DEPTH):
        if current is None:
            return
        if current.node_id == node_id:
            raise BadRequest("a department cannot go under itself or one of its departments", code="invalid_parent")
        if current.kind != DEPARTMENT or not current.parent_id:
            return
        current = store.get(tenant_key, current.parent_id)
    raise BadRequest("the department tree is too deep", code="invalid_parent")


def _subtree(tenant_key: str, node: Node) -> list[Node]:
    """The node's descendants (paged Queries on `byParent`), breadth first."""
    found, frontier = [], [node.node_id]
    while frontier:
        next_frontier = []
        for parent_id in frontier:
            for child in store.children(tenant_key, parent_id):
                found.append(child)
                next_frontier.append(child.node_id)
        frontier = next_frontier
    return found


def _cascade_dimension(tenant_key: str, organisation: Node, dimension_id: str) -> None:
    """An organisation moved to another dimension: its departments and contacts now belong there (the contacts'
    dimension decides which maintainers see them). Runs in the request; a directory's organisation holds
    hundreds of contacts, not millions."""
    for descendant in _subtree(tenant_key, organisation):
        store.set_dimension(tenant_key, descendant.node_id, dimension_id)
    organisation_id = organisation.node_id
    for hit in contact_store.in_organisation(tenant_key, organisation_id):
        contact_writes.write_one(contact_writes.Change(
            tenant_key, hit.contact_id, {"dimension_id": dimension_id},
            lambda record: contact_store.update_if_filed_under(tenant_key, hit.contact_id, organisation_id, record),
        ))


def _cascade_org_name(tenant_key: str, organisation_id: str, name: str) -> None:
    """An organisation renamed: its contacts carry the name (and so does every front-list entry of theirs)."""
    for hit in contact_store.in_organisation(tenant_key, organisation_id):
        contact = contact_store.get(tenant_key, hit.contact_id)
        if contact is None or contact.organisation_id != organisation_id:
            continue
        contact_writes.write_one(contact_writes.Change(
            tenant_key, contact.contact_id, {"org_name": name},
            lambda record: contact_store.update_if_filed_under(tenant_key, contact.contact_id, organisation_id, record),
            before=contact,
        ))


def delete_node(caller: Caller, node_id: str) -> None:
    node = get_node(caller, node_id)
    if node.kind == DIMENSION:
        _require_directory_maintainer(caller)
    else:
        _require_maintainer(caller, node.dimension_id)
    _refuse_synced(node)
    if not store.delete_if_empty(node):
        if store.get(caller.tenant_key, node_id) is None:
            raise node_not_found(node_id)
        raise Conflict("this node still has organisations, departments or contacts under it: move or delete them "
                       "first", code="node_has_children")


def children(caller: Caller, parent_id: str | None, cursor: str | None, limit: int = PAGE_DEFAULT) -> dict:
    """One page of a node's children (the tenant's dimensions when `parent_id` is None), one Query."""
    if parent_id is not None:
        get_node(caller, parent_id)
    key = store.parent_key(caller.tenant_key, parent_id)
    start = cursors.decode(cursor, {"parentKey": key, "tenantKey": caller.tenant_key}, ("nodeId",))
    items, last = store.children_page(caller.tenant_key, parent_id, start, limit)
    return {"nodes": [describe(node) for node in items], "nextCursor": cursors.encode(last)}
