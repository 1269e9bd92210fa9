"""The external directory over HTTP (member sessions; the tenant is the session's).

    GET    /api/directory/nodes?parentId=&cursor=&limit=            the dimensions, or a node's children
    POST   /api/directory/nodes                                     create a dimension / organisation / department
    GET    /api/directory/nodes/{nodeId}                            a node
    PATCH  /api/directory/nodes/{nodeId}                            rename (name) and/or move (parentId)
    DELETE /api/directory/nodes/{nodeId}                            delete (409 node_has_children while not empty)
    GET    /api/directory/nodes/{nodeId}/children?cursor=&limit=    a node's children
    GET    /api/directory/dimensions/{dimensionId}/maintainers      who maintains a dimension
    PUT    /api/directory/dimensions/{dimensionId}/maintainers/{userId}   make a member its maintainer
    DELETE /api/directory/dimensions/{dimensionId}/maintainers/{userId}   and take it back
    GET    /api/directory/contacts?q=&cursor=&limit=                the front list (外部互联)
    GET    /api/directory/back-office/contacts?dimensionId=&organisationId=&departmentId=&cursor=&limit=
    POST   /api/directory/contacts                                  add a contact
    GET    /api/directory/contacts/{contactId}                      a contact (404 when not visible)
    PATCH  /api/directory/contacts/{contactId}                      edit its basic information
    DELETE /api/directory/contacts/{contactId}                      delete it
    PUT    /api/directory/contacts/{contactId}/visible-members      {userIds}
    PUT    /api/directory/contacts/{contactId}/share-list           {shareList: {userId: {permission}}}
    GET    /api/directory/contacts/{contactId}/audit?cursor=&limit= its audit trail, newest first

Node and contact ids arrive URL-encoded in the path (synced node ids contain '#', sent as %23) and are decoded here.
See docs/directory.md for the rules.
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.core.errors import Forbidden, NotFound
from chalicelib.core import paging
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import current_member, json_body
from chalicelib.auth import identity
from chalicelib.directory import audit, lists, permissions, tree
from chalicelib.directory import contacts as directory
from chalicelib.store import organisations, roles, tenants

bp = ApiBlueprint(__name__)


def _params() -> dict:
    return bp.current_request.query_params or {}


def _created(body: dict) -> Response:
    return Response(body=body, status_code=201)


def _no_content() -> Response:
    return Response(body="", status_code=204)


# --- the tree -----------------------------------------------------------------------------------------------------
@bp.route("/api/directory/nodes", methods=["GET"])
def list_nodes() -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    return tree.children(caller, params.get("parentId") or None, params.get("cursor"),
                         paging.page_size(params.get("limit"), default=tree.PAGE_DEFAULT, maximum=tree.PAGE_MAX))


@bp.route("/api/directory/nodes", methods=["POST"])
def create_node() -> Response:
    caller = current_member(bp.current_request)
    return _created(tree.describe(tree.create_node(caller, json_body(bp.current_request))))


@bp.route("/api/directory/nodes/{nodeId}", methods=["GET"])
def get_node(nodeId: str) -> dict:
    caller = current_member(bp.current_request)
    return tree.describe(tree.get_node(caller, unquote(nodeId)))


@bp.route("/api/directory/nodes/{nodeId}", methods=["PATCH"])
def update_node(nodeId: str) -> dict:
    caller = current_member(bp.current_request)
    return tree.describe(tree.update_node(caller, unquote(nodeId), json_body(bp.current_request)))


@bp.route("/api/directory/nodes/{nodeId}", methods=["DELETE"])
def delete_node(nodeId: str) -> Response:
    caller = current_member(bp.current_request)
    tree.delete_node(caller, unquote(nodeId))
    return _no_content()


@bp.route("/api/directory/nodes/{nodeId}/children", methods=["GET"])
def node_children(nodeId: str) -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    return tree.children(caller, unquote(nodeId), params.get("cursor"),
                         paging.page_size(params.get("limit"), default=tree.PAGE_DEFAULT, maximum=tree.PAGE_MAX))


# --- dimension maintainers ------------------------------------------------------------------------------------------
def _dimension(caller: identity.Caller, dimension_id: str) -> str:
    """The dimension, for an admin or 外部互联维护 holder (403 for others, 404 when there is no such dimension)."""
    if not caller.is_directory_maintainer:
        raise Forbidden("only admins and 外部互联维护 holders name dimension maintainers",
                        code="directory_maintainer_required")
    node = organisations.get(caller.tenant_key, dimension_id) if dimension_id else None
    if node is None or node.kind != organisations.DIMENSION:
        raise NotFound(f"no dimension {dimension_id!r} in this directory", code="node_not_found")
    return node.node_id


@bp.route("/api/directory/dimensions/{dimensionId}/maintainers", methods=["GET"])
def dimension_maintainers(dimensionId: str) -> dict:
    caller = current_member(bp.current_request)
    dimension_id = _dimension(caller, unquote(dimensionId))
    return {"dimensionId": dimension_id,
            "userIds": sorted(permissions.dimension_maintainers(caller.tenant_key, dimension_id))}


@bp.route("/api/directory/dimensions/{dimensionId}/maintainers/{userId}", methods=["PUT"])
def add_dimension_maintainer(dimensionId: str, userId: str) -> Response:
    caller = current_member(bp.current_request)
    dimension_id = _dimension(caller, unquote(dimensionId))
    identity.grant_role(tenants.get_enabled_recent(caller.tenant_key), unquote(userId),
                        roles.dimension_role(dimension_id), caller.user_id)
    return _no_content()


@bp.route("/api/directory/dimensions/{dimensionId}/maintainers/{userId}", methods=["DELETE"])
def remove_dimension_maintainer(dimensionId: str, userId: str) -> Response:
    caller = current_member(bp.current_request)
    dimension_id = _dimension(caller, unquote(dimensionId))
    identity.revoke_role(caller.tenant_key, unquote(userId), roles.dimension_role(dimension_id), caller.user_id)
    return _no_content()


# --- contacts -------------------------------------------------------------------------------------------------------
@bp.route("/api/directory/contacts", methods=["GET"])
def front_list() -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    limit = paging.page_size(params.get("limit"), default=lists.PAGE_DEFAULT, maximum=lists.PAGE_MAX)
    return lists.front_list(caller, params.get("q"), params.get("cursor"), limit)


@bp.route("/api/directory/back-office/contacts", methods=["GET"])
def back_office_list() -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    return lists.back_office_list(
        caller,
        dimension_id=params.get("dimensionId") or None,
        organisation_id=params.get("organisationId") or None,
        department_id=params.get("departmentId") or None,
        cursor=params.get("cursor"),
        limit=paging.page_size(params.get("limit"), default=lists.PAGE_DEFAULT, maximum=lists.PAGE_MAX),
    )


@bp.route("/api/directory/contacts", methods=["POST"])
def create_contact() -> Response:
    caller = current_member(bp.current_request)
    contact = directory.create_manual(caller, json_body(bp.current_request))
    return _created(directory.describe(contact, caller))


@bp.route("/api/directory/contacts/{contactId}", methods=["GET"])
def get_contact(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    return directory.describe(directory.visible_contact(caller, unquote(contactId)), caller)


@bp.route("/api/directory/contacts/{contactId}", methods=["PATCH"])
def edit_contact(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    contact = directory.edit_contact(caller, unquote(contactId), json_body(bp.current_request))
    return directory.describe(contact, caller)


@bp.route("/api/directory/contacts/{contactId}", methods=["DELETE"])
def delete_contact(contactId: str) -> Response:
    caller = current_member(bp.current_request)
    directory.delete_contact(caller, unquote(contactId))
    return _no_content()


@bp.route("/api/directory/contacts/{contactId}/visible-members", methods=["PUT"])
def set_visible_members(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    body = json_body(bp.current_request)
    contact = directory.set_visible_members(caller, unquote(contactId), body.get("userIds"))
    return directory.describe(contact, caller)


@bp.route("/api/directory/contacts/{contactId}/share-list", methods=["PUT"])
def set_share_list(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    body = json_body(bp.current_request)
    contact = directory.set_share_list(caller, unquote(contactId), body.get("shareList"))
    return directory.describe(contact, caller)


@bp.route("/api/directory/contacts/{contactId}/audit", methods=["GET"])
def contact_audit(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    contact_id = unquote(contactId)
    directory.require_audit_access(caller, contact_id)
    return audit.history(caller.tenant_key, contact_id, params.get("cursor"),
                         paging.page_size(params.get("limit"), default=audit.PAGE_DEFAULT, maximum=audit.PAGE_MAX))
