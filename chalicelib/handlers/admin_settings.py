"""A tenant's settings for its admins (设置):

    GET   /api/admin/tenants/{tenantKey}/settings            every setting (the official account's secret: only whether set)
    PATCH /api/admin/tenants/{tenantKey}/settings            change some: autoSyncCustomers, defaultSecurityLevel,
                                                             customerDimensionName, chainDimensionName,
                                                             wechatDefaultOrgName, publicBaseUrl, externalApps,
                                                             officialAccount {appId, secret, templateId}
    GET   /api/admin/tenants/{tenantKey}/settings/history    the audit trail (?cursor=&limit=1..100)

Admin routes take an admin member's session or the tenant's admin token (`chalicelib.auth.admin_access`): another
member is 403 `admin_required`. A bad value is 400 and changes nothing; a concurrent change is 409 `settings_changed`.
"""
from __future__ import annotations

from chalicelib.core.errors import BadRequest
from chalicelib.auth import admin_access
from chalicelib.directory import audit
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import json_body
from chalicelib.tenants import settings

bp = ApiBlueprint(__name__)


@bp.route("/api/admin/tenants/{tenantKey}/settings", methods=["GET"])
def get_settings(tenantKey: str) -> dict:
    tenant = admin_access.admin_tenant(tenantKey, bp.current_request.headers)
    return settings.view(tenant)


@bp.route("/api/admin/tenants/{tenantKey}/settings", methods=["PATCH"])
def patch_settings(tenantKey: str) -> dict:
    request = bp.current_request
    tenant, actor = admin_access.admin_request(tenantKey, request.headers)
    return settings.change(tenant, json_body(request), actor)


@bp.route("/api/admin/tenants/{tenantKey}/settings/history", methods=["GET"])
def settings_history(tenantKey: str) -> dict:
    tenant = admin_access.admin_tenant(tenantKey, bp.current_request.headers)
    params = bp.current_request.query_params or {}
    raw = params.get("limit")
    if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= audit.PAGE_MAX):
        raise BadRequest(f"limit must be a number from 1 to {audit.PAGE_MAX}", code="invalid_limit")
    return settings.history(tenant.tenant_key, params.get("cursor"), int(raw) if raw else audit.PAGE_DEFAULT)
