"""Who is calling: internal members signed in through WeCom OAuth, and the roles they hold in their tenant.

A `Caller` is built once per request from the session (one GetItem) and the member's role grants (one Query), so
every permission rule downstream is a pure function of it. The admin token (`auth.admin_access`) stays as the operators'
bootstrap credential: it is how a tenant's first admins are named.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.auth import sessions
from chalicelib.tenants.members import known_member
from chalicelib.core.errors import BadRequest, Forbidden, NotFound, Unauthorized
from chalicelib.store import members, roles
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.errors import WeComApiError
from chalicelib.tenants.wecom_clients import client_for_tenant

ADMIN, DIRECTORY_MAINTAINER = roles.ADMIN, roles.DIRECTORY_MAINTAINER
GRANTABLE = (ADMIN, DIRECTORY_MAINTAINER)


@dataclass(frozen=True)
class Caller:
    """An authenticated internal member of one tenant and the roles they hold there."""

    tenant_key: str
    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_directory_maintainer(self) -> bool:
        """外部互联维护: sees and maintains the whole directory. Admins hold it implicitly."""
        return self.is_admin or DIRECTORY_MAINTAINER in self.roles

    def maintains(self, dimension_id: str | None) -> bool:
        """Maintainer of this dimension, or of every dimension through 外部互联维护."""
        if self.is_directory_maintainer:
            return True
        return bool(dimension_id) and roles.dimension_role(dimension_id) in self.roles

    def maintained_dimensions(self) -> set[str]:
        return {role[len(roles.DIMENSION_PREFIX):] for role in self.roles if role.startswith(roles.DIMENSION_PREFIX)}


def member_caller(session: sessions.SessionInfo) -> Caller:
    if session.kind != sessions.MEMBER:
        raise Unauthorized("this route needs an internal member's session", code="member_session_required")
    return Caller(session.tenant_key, session.subject, roles.roles_of(session.tenant_key, session.subject),
                  session.session_id)


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("only the tenant's admins may do this", code="admin_required")


def sign_in_member(tenant: Tenant, code: str) -> tuple[sessions.Issued, dict]:
    """Exchange a WeCom OAuth code (connect/oauth2/authorize → auth/getuserinfo) for a member session.

    A code that names a non-member (an external contact opening the page) is refused here: this door is for the
    team. The member's name is learned from WeCom the first time they sign in.
    """
    if not code or len(code) > 512:
        raise BadRequest("an OAuth code is required", code="invalid_code")
    client = client_for_tenant(tenant)
    try:
        who = client.oauth_user(code)
    except WeComApiError as err:
        raise Unauthorized(f"WeCom refused the code ({err.errcode})", code="oauth_failed") from err
    user_id = who.get("userid") or who.get("UserId")
    if not user_id:
        raise Forbidden("the code does not belong to a member of this team", code="not_a_member")
    member = known_member(tenant, user_id)
    if member is None:
        raise Forbidden("this member has left the team", code="not_a_member")
    issued = sessions.issue(tenant.tenant_key, sessions.MEMBER, user_id, "wecom_oauth")
    return issued, describe_member(member_caller(sessions.resolve(issued.token)), member)


def describe_member(caller: Caller, member: members.Member | None = None) -> dict:
    member = member or members.get(caller.tenant_key, caller.user_id)
    return {
        "tenantKey": caller.tenant_key,
        "userId": caller.user_id,
        "name": member.name if member else None,
        "roles": sorted(caller.roles),
    }


def _check_grantable(role: str) -> None:
    if role not in GRANTABLE and not role.startswith(roles.DIMENSION_PREFIX):
        raise BadRequest(f"unknown role {role!r}: one of {', '.join(GRANTABLE)} or dim:<dimensionId>",
                         code="unknown_role")


def grant_role(tenant: Tenant, user_id: str, role: str, granted_by: str) -> None:
    """Give a role to an active member of the team (asking WeCom about a member Yunqiao has not met yet)."""
    _check_grantable(role)
    if known_member(tenant, user_id) is None:
        raise NotFound(f"no member {user_id!r} in this team", code="member_not_found")
    roles.grant(tenant.tenant_key, user_id, role, granted_by)


def revoke_role(tenant_key: str, user_id: str, role: str, caller_id: str) -> None:
    """Take a role away. An admin cannot drop their own admin role, so a tenant is never left without one by
    accident."""
    _check_grantable(role)
    if role == ADMIN and user_id == caller_id:
        raise Forbidden("you cannot remove your own admin role", code="last_admin_guard")
    roles.revoke(tenant_key, user_id, role)


def role_holders(tenant_key: str, role: str) -> list[str]:
    _check_grantable(role)
    return roles.holders(tenant_key, role)
