"""Who holds which role in a tenant: admins, the 外部互联维护 permission, and the maintainers of each dimension.

One item per (member, role), keyed `<userId>#<role>` under the tenantKey, so all the roles of the member making a
request are one Query. The `byRole` index answers the other question — who holds a role (the approvers of an
account application, the admin lists) — with one Query on `<tenantKey>#<role>`.
Roles: `admin`, `directory_maintainer` (外部互联维护) and `dim:<dimensionId>` (maintainer of that dimension).
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.core import clock
from chalicelib.store.base import TableModel, table_meta

ADMIN = "admin"
DIRECTORY_MAINTAINER = "directory_maintainer"
DIMENSION_PREFIX = "dim:"


def dimension_role(dimension_id: str) -> str:
    return f"{DIMENSION_PREFIX}{dimension_id}"


class RoleIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byRole"
        projection = KeysOnlyProjection()

    role_group = UnicodeAttribute(hash_key=True, attr_name="roleGroup")
    user_id = UnicodeAttribute(range_key=True, attr_name="userId")


class RoleGrant(TableModel):
    Meta = table_meta("roles")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    role_key = UnicodeAttribute(range_key=True, attr_name="roleKey")
    role_group = UnicodeAttribute(attr_name="roleGroup")
    user_id = UnicodeAttribute(attr_name="userId")
    role = UnicodeAttribute()
    granted_by = UnicodeAttribute(attr_name="grantedBy")
    granted_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="grantedAt")

    by_role = RoleIndex()


def _role_key(user_id: str, role: str) -> str:
    """Userids never contain '#', so `<userId>#` prefixes exactly one member's grants."""
    return f"{user_id}#{role}"


def roles_of(tenant_key: str, user_id: str) -> frozenset[str]:
    return frozenset(
        grant.role for grant in RoleGrant.query(tenant_key, RoleGrant.role_key.startswith(f"{user_id}#"))
    )


def holders(tenant_key: str, role: str) -> list[str]:
    return [grant.user_id for grant in RoleGrant.by_role.query(f"{tenant_key}#{role}")]


def grant(tenant_key: str, user_id: str, role: str, granted_by: str) -> None:
    RoleGrant(
        tenant_key,
        _role_key(user_id, role),
        role_group=f"{tenant_key}#{role}",
        user_id=user_id,
        role=role,
        granted_by=granted_by,
    ).save()


def revoke(tenant_key: str, user_id: str, role: str) -> None:
    RoleGrant(tenant_key, _role_key(user_id, role)).delete()


def revoke_all(tenant_key: str, user_id: str) -> list[str]:
    """Take every role from a member (they left the team); returns the roles they held."""
    grants = list(RoleGrant.query(tenant_key, RoleGrant.role_key.startswith(f"{user_id}#")))
    for item in grants:
        item.delete()
    return [item.role for item in grants]
