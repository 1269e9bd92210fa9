"""The organisations a signed-in member may switch between: their own team, and every other team on Yunqiao where
they are an external contact (外部) — a team that added them from another organisation (`invitations`), so its
directory holds a contact naming this member (`peerTenantKey` + `peerUserId`).

Found with one Query on the contacts' `byPeer` index, whose key is the member's own tenantKey and userId (written by
the contacts' one write path, `directory.contact_writes`), and one BatchGetItem of those teams: no Scan, and nothing
of the other teams is shown but their names and the address of their 与我协作 home, where the member signs in as
that team's contact. Disabled teams are left out.
"""
from __future__ import annotations

from urllib.parse import urlencode

from chalicelib.auth.identity import Caller
from chalicelib.profile_links.link import HOME_PATH
from chalicelib.store import contacts as contact_store
from chalicelib.store import tenants as tenant_store
from chalicelib.tenants.urls import public_url

MAX_EXTERNAL = 50  # other organisations listed; a member is an external contact of a handful, not of hundreds


def of_member(caller: Caller) -> list[dict]:
    """The caller's own team first (current), then the teams where they are an external contact, by name."""
    own = tenant_store.get_enabled_recent(caller.tenant_key)
    listed = [{"tenantKey": own.tenant_key, "name": own.name, "external": False, "current": True}]
    keys = [key for key in contact_store.tenants_with_peer(caller.tenant_key, caller.user_id, MAX_EXTERNAL)
            if key != caller.tenant_key]
    others = [tenant for tenant in tenant_store.get_many(keys) if tenant.enabled]
    for tenant in sorted(others, key=lambda t: (t.name, t.tenant_key)):
        listed.append({
            "tenantKey": tenant.tenant_key, "name": tenant.name, "external": True, "current": False,
            "homeUrl": public_url(tenant, f"{HOME_PATH}?{urlencode({'tenantKey': tenant.tenant_key})}"),
        })
    return listed
