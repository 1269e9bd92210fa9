"""The team's members as WeCom's contact events describe them: joined, changed, renamed, gone."""
from __future__ import annotations

from chalicelib.auth import sessions
from chalicelib.invitations import lookup
from chalicelib.store import members as member_store
from chalicelib.store import roles as role_store
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import WeComApiError
from chalicelib.tenants.wecom_clients import client_for_tenant


def refresh(tenant: Tenant, client: WeComClient, user_id: str) -> bool:
    """Store the member as WeCom has it; False if WeCom no longer knows the userid (it left meanwhile)."""
    try:
        member = client.get_member(user_id)
    except WeComApiError as err:
        if not err.unknown_user:
            raise
        member_store.mark_gone(tenant.tenant_key, user_id)
        return False
    member_store.upsert(tenant.tenant_key, user_id, member.get("name"), [int(d) for d in member.get("department", [])])
    lookup.remember_member(tenant.tenant_key, user_id, member.get("name"))  # findable by exact name (invitations)
    return True


def rename(tenant: Tenant, old_user_id: str, new_user_id: str) -> None:
    """WeCom changed the userid: the record and the roles move to the new id; sessions under the old id end (the
    member signs in again as the new id)."""
    member_store.rename(tenant.tenant_key, old_user_id, new_user_id)
    for role in role_store.revoke_all(tenant.tenant_key, old_user_id):
        role_store.grant(tenant.tenant_key, new_user_id, role, f"rename:{old_user_id}")
    sessions.revoke_all(tenant.tenant_key, sessions.MEMBER, old_user_id)


def remove(tenant: Tenant, user_id: str) -> None:
    """The member left (WeCom's user/get answered 60111): their sessions end at once and their roles go, so a userid
    WeCom gives out again later starts with none."""
    member_store.mark_gone(tenant.tenant_key, user_id)
    sessions.revoke_all(tenant.tenant_key, sessions.MEMBER, user_id)
    role_store.revoke_all(tenant.tenant_key, user_id)


def known_member(tenant: Tenant, user_id: str) -> member_store.Member | None:
    """The active member with this userid, asking WeCom the first time Yunqiao hears of them (a member who never
    signed in and joined before the app); None when WeCom does not know them either or they left."""
    member = member_store.get(tenant.tenant_key, user_id)
    if member is None or not member.name:
        if not refresh(tenant, client_for_tenant(tenant), user_id):
            return None
        member = member_store.get(tenant.tenant_key, user_id)
    return member if member.status == member_store.ACTIVE else None
