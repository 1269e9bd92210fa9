"""Admin authentication for the `/api/admin/tenants/{tenantKey}/...` routes: an admin member's session, or the
operators' per-tenant admin token.

A request with `Authorization: Bearer` must carry a live member session of that very tenant whose member holds the
admin role; otherwise the `X-Yunqiao-Admin-Token` header must equal the `admin_token` field of the tenant's Secrets Manager secret. Both
sides are hashed before `hmac.compare_digest`, so the comparison takes the same time whatever the token's length or
the position of the first wrong character. A tenant whose secret has no admin token refuses every admin call (403):
admin access is something an operator sets up, never a default. The token is how an operator names a tenant's first
admins; after that, admins use their own sessions.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Mapping

from chalicelib.auth import sessions
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.store import secrets
from chalicelib.store.tenants import Tenant
from chalicelib.auth import identity
from chalicelib.core.observability import bind_tenant
from chalicelib.store import tenants

HEADER = "X-Yunqiao-Admin-Token"
TOKEN_ACTOR = "admin-token"  # who the audit names for a change made with the operators' token


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def _header(headers: Mapping[str, str], name: str) -> str:
    """Header lookup that ignores case, for Chalice's case-insensitive headers and plain dicts alike."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value or ""


def require_admin(tenant: Tenant, headers: Mapping[str, str]) -> None:
    """Return if the request carries the tenant's admin token; raise Forbidden (none set up) or Unauthorized."""
    expected = secrets.get(tenant.secret_id).get("admin_token") or ""
    if not expected:
        raise Forbidden("admin access is not set up for this tenant", code="admin_not_configured")
    given = _header(headers, HEADER)
    if not given or not hmac.compare_digest(_digest(given), _digest(expected)):
        raise Unauthorized(f"missing or wrong {HEADER}", code="bad_admin_token")


def _require_admin_session(tenant: Tenant, token: str) -> str:
    """The userid of the admin whose live session of this tenant `token` is."""
    session = sessions.resolve(token)
    if session is None or session.tenant_key != tenant.tenant_key:
        raise Unauthorized("sign in first: the session is missing, expired, revoked or of another team",
                           code="invalid_session")
    caller = identity.member_caller(session)
    identity.require_admin(caller)
    return caller.user_id


def admin_request(tenant_key: str, headers: Mapping[str, str]) -> tuple[Tenant, str]:
    """The enabled tenant an admin request names and who is acting — the admin's userid, or `admin-token` for the
    operators' token — once the request has proved it may act as the tenant's admin."""
    tenant = tenants.get_enabled(tenant_key)
    token = sessions.bearer_token(headers)
    if token:
        actor = _require_admin_session(tenant, token)
    else:
        require_admin(tenant, headers)
        actor = TOKEN_ACTOR
    bind_tenant(tenant.tenant_key)
    return tenant, actor


def admin_tenant(tenant_key: str, headers: Mapping[str, str]) -> Tenant:
    """The enabled tenant an admin request names, once the request has proved it holds the tenant's admin token."""
    return admin_request(tenant_key, headers)[0]
