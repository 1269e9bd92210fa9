"""The tenants table: one item per team, keyed by its tenantKey.

The corp a tenant is bound to is found through the `byCorp` index: suite data callbacks and the ops CLI name the
corp, not the tenant.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.errors import Conflict, TenantNotFound
from chalicelib.store.base import table_meta

SELF_BUILT = "self_built"
SUITE = "suite"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TenantSettings(MapAttribute):
    auto_sync_customers = BooleanAttribute(default=False)
    default_security_level = NumberAttribute(default=0)
    public_base_url = UnicodeAttribute(null=True)
    customer_dimension_name = UnicodeAttribute(default="企业微信客户")
    chain_dimension_name = UnicodeAttribute(default="上下游")
    wechat_default_org_name = UnicodeAttribute(default="微信客户")
    profile_link_title = UnicodeAttribute(default="与我协作")


class CorpIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byCorp"
        projection = KeysOnlyProjection()

    corp_id = UnicodeAttribute(hash_key=True, attr_name="corpId")


class Tenant(Model):
    """A team bound to one WeCom corp. Secrets are not here: `secret_id` names them in Secrets Manager."""

    Meta = table_meta("tenants")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    name = UnicodeAttribute()
    mode = UnicodeAttribute()
    corp_id = UnicodeAttribute(attr_name="corpId")
    corp_name = UnicodeAttribute(null=True, attr_name="corpName")
    agent_id = UnicodeAttribute(null=True, attr_name="agentId")
    secret_id = UnicodeAttribute(attr_name="secretId")
    settings = TenantSettings(default=TenantSettings)
    enabled = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute(default=_now, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=_now, attr_name="updatedAt")

    by_corp = CorpIndex()


def get(tenant_key: str) -> Tenant:
    """The tenant, or TenantNotFound (a 404 for callers, whatever the reason the key is unknown)."""
    try:
        return Tenant.get(tenant_key)
    except DoesNotExist:
        raise TenantNotFound(tenant_key) from None


def find_by_corp(corp_id: str) -> Tenant | None:
    for key_only in Tenant.by_corp.query(corp_id, limit=1):
        return get(key_only.tenant_key)
    return None


def create(tenant: Tenant) -> Tenant:
    """Insert a new tenant; never overwrite one (two onboardings racing for one key: one wins, one gets 409)."""
    try:
        tenant.save(condition=Tenant.tenant_key.does_not_exist())
    except PutError as err:
        if err.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(f"tenant {tenant.tenant_key!r} exists", code="tenant_exists") from None
        raise
    return tenant


def set_enabled(tenant: Tenant, enabled: bool) -> None:
    tenant.update(actions=[Tenant.enabled.set(enabled), Tenant.updated_at.set(_now())])


def get_enabled(tenant_key: str) -> Tenant:
    """The tenant if it may be served: a disabled tenant answers like an unknown one."""
    tenant = get(tenant_key)
    if not tenant.enabled:
        raise TenantNotFound(tenant_key)
    return tenant
