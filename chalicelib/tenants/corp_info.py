"""The tenant's own corp: its corpid (given at onboarding, or a suite's `auth_corp_info`) and the names WeCom shows
its customers, which is how a customer who is a WeCom user of this very corp is recognised.

A customer record (`externalcontact/get`, `batch/get_by_user`) carries the corp's short and full names of a WeCom
user, never a corpid, so the own corp's names must be on the tenant. A suite authorisation gives both
(`auth_corp_info.corp_name`, `corp_full_name`); for a self-built app WeCom has no API that names the corp, so the
onboarding is given them, and a tenant without any learns its short name from a member's external profile
(`user/get` → `external_profile.external_corp_name`, which WeCom takes from the corp's verified short names).
Tenants onboarded before the names were kept get them here, on their next sync.
"""
from __future__ import annotations

from typing import Iterable

from chalicelib.core.observability import logger
from chalicelib.store import secrets
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import SUITE, Tenant
from chalicelib.tenants.wecom_clients import suite_client
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import WeComApiError

PROFILE_READS = 3  # members asked for the external profile before giving up for this run


def names(tenant: Tenant) -> frozenset[str]:
    """The names the tenant's own corp goes by (empty when none is known yet)."""
    return frozenset(name for name in (tenant.corp_name, tenant.corp_full_name) if name)


def ensure_names(tenant: Tenant, client: WeComClient, userids: Iterable[str]) -> Tenant:
    """The tenant with its corp's names, asking WeCom when it has none: a suite tenant re-reads its authorisation,
    a self-built one reads the external profile of the first few of `userids` that have one. A WeCom error here is
    the caller's (the sync defers or fails the phase as for any other call)."""
    if names(tenant):
        return tenant
    corp_name = corp_full_name = None
    if tenant.mode == SUITE:
        answer = suite_client().auth_info(tenant.corp_id, secrets.get(tenant.secret_id)["permanent_code"])
        corp = answer.get("auth_corp_info") or {}
        corp_name, corp_full_name = corp.get("corp_name") or None, corp.get("corp_full_name") or None
    else:
        for userid in list(userids)[:PROFILE_READS]:
            try:
                member = client.get_member(userid)
            except WeComApiError as err:
                if err.unknown_user:
                    continue
                raise
            corp_name = ((member.get("external_profile") or {}).get("external_corp_name") or "").strip() or None
            if corp_name:
                break
    if corp_name or corp_full_name:
        tenant_store.set_corp_names(tenant, corp_name, corp_full_name)
        logger.info("corp names recorded", extra={"corpName": corp_name, "corpFullName": corp_full_name})
    return tenant
