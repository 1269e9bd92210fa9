"""Public tenant facts the external home page needs before anyone signs in: which company this is."""
from __future__ import annotations

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.store import tenants

bp = ApiBlueprint(__name__)


@bp.route("/api/tenants/{tenantKey}/public", methods=["GET"])
def public_tenant(tenantKey: str) -> dict:
    tenant = tenants.get_enabled(tenantKey)
    return {"tenantKey": tenant.tenant_key, "name": tenant.name}
