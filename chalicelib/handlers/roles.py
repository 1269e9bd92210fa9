"""The role lists (admins, 外部互联维护 holders, dimension maintainers) and the operators' bootstrap of the first admin.

    GET    /api/directory/roles/{role}/members              who holds the role            (admins, 外部互联维护)
    PUT    /api/directory/roles/{role}/members/{userId}     grant it                      (admins; dim:… also 外部互联维护)
    DELETE /api/directory/roles/{role}/members/{userId}     take it away                  (same)
    PUT    /api/admin/tenants/{tenantKey}/admins/{userId}   name an admin with the tenant's admin token (bootstrap)
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.core.errors import Forbidden
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import current_member
from chalicelib.auth import admin_access, identity
from chalicelib.store import roles, tenants

bp = ApiBlueprint(__name__)


def _may_manage(caller: identity.Caller, role: str) -> None:
    if caller.is_admin or (role.startswith(roles.DIMENSION_PREFIX) and caller.is_directory_maintainer):
        return
    raise Forbidden("only admins manage the role lists", code="admin_required")


@bp.route("/api/directory/roles/{role}/members", methods=["GET"])
def role_members(role: str) -> dict:
    caller = current_member(bp.current_request)
    if not caller.is_directory_maintainer:
        raise Forbidden("only admins and 外部互联维护 holders see the role lists", code="forbidden")
    role = unquote(role)
    return {"role": role, "userIds": identity.role_holders(caller.tenant_key, role)}


@bp.route("/api/directory/roles/{role}/members/{userId}", methods=["PUT"])
def grant(role: str, userId: str) -> Response:
    caller = current_member(bp.current_request)
    role = unquote(role)
    _may_manage(caller, role)
    identity.grant_role(tenants.get_enabled_recent(caller.tenant_key), unquote(userId), role, caller.user_id)
    return Response(body="", status_code=204)


@bp.route("/api/directory/roles/{role}/members/{userId}", methods=["DELETE"])
def revoke(role: str, userId: str) -> Response:
    caller = current_member(bp.current_request)
    role = unquote(role)
    _may_manage(caller, role)
    identity.revoke_role(caller.tenant_key, unquote(userId), role, caller.user_id)
    return Response(body="", status_code=204)


@bp.route("/api/admin/tenants/{tenantKey}/admins/{userId}", methods=["PUT"])
def bootstrap_admin(tenantKey: str, userId: str) -> Response:
    tenant = admin_access.admin_tenant(tenantKey, bp.current_request.headers)
    identity.grant_role(tenant, unquote(userId), identity.ADMIN, "admin-token")
    return Response(body="", status_code=204)
