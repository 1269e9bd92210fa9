"""The tenants table: one item per team, keyed by its tenantKey.

The corp a tenant is bound to is found through the `byCorp` index: suite data callbacks and the ops CLI name the
corp, not the tenant.
"""
from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Iterator

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, TenantNotFound
from chalicelib.store.base import TableModel, conditional_save, conditional_update, table_meta

SELF_BUILT = "self_built"
SUITE = "suite"
KEY_PATTERN = re.compile(r"^[a-z0-9]{4,32}$")  # what a tenantKey looks like (tenants.validate_tenant_key)


class TenantSettings(MapAttribute):
    auto_sync_customers = BooleanAttribute(default=False)
    default_security_level = NumberAttribute(default=0)
    public_base_url = UnicodeAttribute(null=True)
    customer_dimension_name = UnicodeAttribute(default="企业微信客户")
    chain_dimension_name = UnicodeAttribute(default="上下游")
    wechat_default_org_name = UnicodeAttribute(default="微信客户")
    profile_link_title = UnicodeAttribute(default="与我协作")
    # The WeChat official account (its secret is `wechat_oa_secret` in the tenant secret) and its template.
    official_account_app_id = UnicodeAttribute(null=True, attr_name="officialAccountAppId")
    official_account_template_id = UnicodeAttribute(null=True, attr_name="officialAccountTemplateId")


class CorpIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byCorp"
        projection = KeysOnlyProjection()

    corp_id = UnicodeAttribute(hash_key=True, attr_name="corpId")


class ModeIndex(GlobalSecondaryIndex):
    """Every tenant, under its mode: how schedules list the tenants with a Query per mode instead of a Scan (the
    Lambda role has no Scan). `mode` is on every item, so no writer has anything to maintain."""

    class Meta:
        index_name = "byMode"
        projection = IncludeProjection(["enabled", "settings"])

    mode = UnicodeAttribute(hash_key=True)
    tenant_key = UnicodeAttribute(range_key=True, attr_name="tenantKey")


class Tenant(TableModel):
    """A team bound to one WeCom corp. Secrets are not here: `secret_id` names them in Secrets Manager."""

    Meta = table_meta("tenants")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    name = UnicodeAttribute()
    mode = UnicodeAttribute()
    corp_id = UnicodeAttribute(attr_name="corpId")
    # The corp's own names as WeCom shows them to its customers (短名称 / 主体名称): how a customer who is a WeCom user
    # of this very corp is recognised (WeCom gives a customer's corp names, never its corpid).
    corp_name = UnicodeAttribute(null=True, attr_name="corpName")
    corp_full_name = UnicodeAttribute(null=True, attr_name="corpFullName")
    agent_id = UnicodeAttribute(null=True, attr_name="agentId")
    secret_id = UnicodeAttribute(attr_name="secretId")
    settings = TenantSettings(default=TenantSettings)
    enabled = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="updatedAt")
    # The integrations' service key (chalicelib.auth.service_keys): its SHA-256 only, never the key.
    service_key_hash = UnicodeAttribute(null=True, attr_name="serviceKeyHash")
    service_key_issued_at = UTCDateTimeAttribute(null=True, attr_name="serviceKeyIssuedAt")

    by_corp = CorpIndex()
    by_mode = ModeIndex()


def get(tenant_key: str) -> Tenant:
    """The tenant, or TenantNotFound (a 404 for callers, whatever the reason the key is unknown).

    No key at all is a bad request (400 `missing_tenant_key`); a key that cannot be one is unknown without asking
    DynamoDB (which refuses an empty or oversized key with a ValidationException)."""
    if not tenant_key:
        raise BadRequest("tenantKey is required", code="missing_tenant_key")
    if not isinstance(tenant_key, str) or not KEY_PATTERN.match(tenant_key):
        raise TenantNotFound(tenant_key)
    try:
        return Tenant.get(tenant_key)
    except DoesNotExist:
        raise TenantNotFound(tenant_key) from None


def all_tenants() -> Iterator[Tenant]:
    """Every tenant with its key, `enabled` and `settings` only (what the index projects), mode by mode."""
    for mode in (SELF_BUILT, SUITE):
        yield from Tenant.by_mode.query(mode)


def get_many(tenant_keys: list[str]) -> list[Tenant]:
    """The existing tenants among these keys (BatchGetItem, 100 keys a request)."""
    return list(Tenant.batch_get(list(dict.fromkeys(tenant_keys)))) if tenant_keys else []


def find_by_corp(corp_id: str) -> Tenant | None:
    for key_only in Tenant.by_corp.query(corp_id, limit=1):
        return get(key_only.tenant_key)
    return None


def create(tenant: Tenant) -> Tenant:
    """Insert a new tenant; never overwrite one (two onboardings racing for one key: one wins, one gets 409)."""
    if not conditional_save(tenant, Tenant.tenant_key.does_not_exist()):
        raise Conflict(f"tenant {tenant.tenant_key!r} exists", code="tenant_exists")
    return tenant


def set_corp_info(tenant: Tenant, corp_name: str, agent_id: str | None, corp_full_name: str | None = None) -> None:
    """What WeCom says of the corp now (a suite's create_auth again, change_auth); the team's display name follows
    the corp's."""
    actions = [Tenant.corp_name.set(corp_name), Tenant.name.set(corp_full_name or corp_name),
               Tenant.enabled.set(True), Tenant.updated_at.set(clock.utcnow())]
    if corp_full_name:
        actions.append(Tenant.corp_full_name.set(corp_full_name))
    if agent_id:
        actions.append(Tenant.agent_id.set(agent_id))
    _recent.pop(tenant.tenant_key, None)
    tenant.update(actions=actions)


def set_corp_names(tenant: Tenant, corp_name: str | None, corp_full_name: str | None) -> None:
    """Record the corp's names where the tenant has none yet (a self-built tenant learning them from WeCom): a name
    the onboarding was given, or a suite's authorisation wrote, is never replaced by a guess."""
    actions = [attribute.set(attribute | value) for attribute, value in
               ((Tenant.corp_name, corp_name), (Tenant.corp_full_name, corp_full_name)) if value]
    if not actions:
        return
    _recent.pop(tenant.tenant_key, None)
    tenant.update(actions=actions + [Tenant.updated_at.set(clock.utcnow())])


def set_service_key_hash(tenant: Tenant, digest: str) -> datetime:
    """Replace the tenant's service key (its hash): the previous key stops working at once. Returns when."""
    at = clock.utcnow()
    tenant.update(actions=[Tenant.service_key_hash.set(digest), Tenant.service_key_issued_at.set(at),
                           Tenant.updated_at.set(at)])
    return at


def set_enabled(tenant: Tenant, enabled: bool) -> None:
    tenant.update(actions=[Tenant.enabled.set(enabled), Tenant.updated_at.set(clock.utcnow())])


def update_settings(tenant: Tenant, changes: dict[str, object]) -> Tenant:
    """The one write of a tenant's settings: `changes` maps TenantSettings attribute names to new values.

    Conditional on the record being the one the caller read (its `updatedAt`), so two admins saving at once cannot
    each audit a "before" the other already replaced: the second gets 409 `settings_changed`. This process's cache
    forgets the tenant at once; other processes see the change within `RECENT_SECONDS`.
    """
    unknown = set(changes) - set(TenantSettings.get_attributes())
    if unknown:
        raise ValueError(f"not tenant settings: {sorted(unknown)}")
    actions = [getattr(Tenant.settings, name).set(value) if value is not None else getattr(Tenant.settings, name).remove()
               for name, value in changes.items()]
    _recent.pop(tenant.tenant_key, None)
    if not conditional_update(tenant, actions + [Tenant.updated_at.set(clock.utcnow())],
                              Tenant.updated_at == tenant.updated_at):
        raise Conflict("the settings were changed by someone else meanwhile: reload and try again",
                       code="settings_changed")
    return tenant


_recent: dict[str, tuple[float, Tenant]] = {}
RECENT_SECONDS = 60


def get_enabled_recent(tenant_key: str) -> Tenant:
    """`get_enabled` through a one-minute per-process cache, for the callback path.

    WeCom callbacks come in bursts for the same tenant and must be answered fast; with the cache a callback costs
    one conditional put and one send. A tenant disabled meanwhile is refused within a minute.
    """
    hit = _recent.get(tenant_key)
    if hit is None or hit[0] < time.monotonic():
        hit = (time.monotonic() + RECENT_SECONDS, get(tenant_key))
        _recent[tenant_key] = hit
    if not hit[1].enabled:
        raise TenantNotFound(tenant_key)
    return hit[1]


def recent(tenant_key: str) -> Tenant | None:
    """The tenant as this process read it within the minute (`get_enabled_recent`'s cache), or None."""
    hit = _recent.get(tenant_key)
    return hit[1] if hit is not None and hit[0] >= time.monotonic() else None


def keep_recent(tenant_key: str, tenant: Tenant | None) -> None:
    """Keep a tenant read together with other items (one BatchGetItem) as `get_enabled_recent` keeps its own reads;
    None, no such tenant, is TenantNotFound as `get` answers it."""
    if tenant is None:
        raise TenantNotFound(tenant_key)
    _recent[tenant_key] = (time.monotonic() + RECENT_SECONDS, tenant)


def get_enabled(tenant_key: str) -> Tenant:
    """The tenant if it may be served: a disabled tenant answers like an unknown one."""
    tenant = get(tenant_key)
    if not tenant.enabled:
        raise TenantNotFound(tenant_key)
    return tenant
