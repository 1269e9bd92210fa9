"""The apps a tenant opens to its external users (外部用户可用应用).

The catalogue is fixed here, in the order the external page shows it; by default every app in it is open. An admin
may close or re-open any of them per tenant. Only the tenant's choice is stored (one item), so a tenant that never
chose follows the default.
"""
from __future__ import annotations

from chalicelib.core.errors import BadRequest
from chalicelib.store import accounts as store

CATALOGUE: dict[str, str] = {
    "todos": "待办",
    "tasks": "任务",
    "projects": "项目",
    "schedules": "日程",
    "workflows": "流程",
    "forms": "业务表单",
    "documents": "文档",
    "crm_customers": "客户",
    "crm_contacts": "联系人",
    "crm_opportunities": "商机",
    "crm_products": "产品",
    "crm_marketing": "市场活动",
    "crm_quotes": "报价",
    "crm_orders": "订单",
    "crm_contracts": "合同",
    "crm_prices": "价格",
    "crm_funds": "资金",
}
DEFAULT_OPEN = tuple(CATALOGUE)
# Which apps a shared item's kind belongs to (its kind in chalicelib.sharing.kinds): the kind is shown to external
# users while any of them is open, and its items answer 404 once all are closed.
KIND_APPS: dict[str, tuple[str, ...]] = {
    "project": ("projects",),
    "task": ("tasks", "todos"),
    "approval": ("workflows",),
    "form": ("forms",),
    "form_record": ("forms",),
    "document": ("documents",),
    "schedule": ("schedules",),
    "crm_record": tuple(key for key in CATALOGUE if key.startswith("crm_")),
}


def open_apps(tenant_key: str) -> list[dict]:
    """The apps open to the tenant's external users, in catalogue order: [{key, label}]."""
    return described(store.apps(tenant_key))


def described(chosen: list[str] | None) -> list[dict]:
    """The apps open given the tenant's stored choice (None: the default set), in catalogue order: [{key, label}]."""
    keys = set(DEFAULT_OPEN if chosen is None else chosen)
    return [{"key": key, "label": label} for key, label in CATALOGUE.items() if key in keys]


def open_kinds(chosen: list[str] | None) -> frozenset[str]:
    """The item kinds external users may see, given the tenant's stored choice (None: the default set)."""
    keys = set(DEFAULT_OPEN if chosen is None else chosen)
    return frozenset(kind for kind, apps in KIND_APPS.items() if keys.intersection(apps))


def kinds_open(tenant_key: str) -> frozenset[str]:
    return open_kinds(store.apps(tenant_key))


def catalogue(tenant_key: str) -> list[dict]:
    """Every app of the catalogue and whether it is open for this tenant: [{key, label, open}]."""
    keys = {app["key"] for app in open_apps(tenant_key)}
    return [{"key": key, "label": label, "open": key in keys} for key, label in CATALOGUE.items()]


def set_open_apps(tenant_key: str, app_keys: object, updated_by: str) -> list[dict]:
    """Open exactly these apps (any others close); every key must be in the catalogue."""
    if not isinstance(app_keys, list) or not all(isinstance(key, str) for key in app_keys):
        raise BadRequest("apps must be a list of app keys", code="invalid_apps")
    unknown = sorted(set(app_keys) - set(CATALOGUE))
    if unknown:
        raise BadRequest(f"unknown apps: {', '.join(unknown)}; known: {', '.join(CATALOGUE)}", code="unknown_app")
    store.set_apps(tenant_key, [key for key in CATALOGUE if key in set(app_keys)], updated_by)
    return catalogue(tenant_key)
