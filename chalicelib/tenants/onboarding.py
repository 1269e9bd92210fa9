"""Onboarding and describing tenants: the rules a tenant record must satisfy before it is stored.

Used by the ops CLI for self-built-app tenants and by the suite's create_auth processing for suite tenants.
"""
from __future__ import annotations

import re
import secrets as random

from chalicelib.core import config
from chalicelib.core.errors import BadRequest
from chalicelib.invitations import lookup
from chalicelib.store import secrets, tenants
from chalicelib.store.tenants import KEY_PATTERN as TENANT_KEY
from chalicelib.store.tenants import SELF_BUILT, SUITE, Tenant, TenantSettings
from chalicelib.tenants.urls import public_base_url

CORP_ID = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
SELF_BUILT_SECRETS = ("contacts_secret", "customer_secret", "app_secret", "callback_token", "callback_aes_key")
# Optional in the same secret: `admin_token`, what admin routes check until internal sessions exist (auth/admin_access.py).
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_tenant_key() -> str:
    """A key shaped like the team codes users already know (`tn` + 8 characters, e.g. tnxabtf9g2)."""
    return "tn" + "".join(random.choice(_ALPHABET) for _ in range(8))


def secret_id_for(tenant_key: str) -> str:
    return f"{config.APP_NAME}/{config.stage()}/tenants/{tenant_key}"


def validate_tenant_key(tenant_key: str) -> str:
    if not TENANT_KEY.match(tenant_key or ""):
        raise BadRequest("tenantKey must be 4-32 lowercase letters or digits", code="invalid_tenant_key")
    return tenant_key


def _validate_corp(corp_id: str) -> None:
    if not CORP_ID.match(corp_id or ""):
        raise BadRequest("corpid must be 4-64 letters, digits, '_' or '-'", code="invalid_corp_id")


def _validate_aes_key(aes_key: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9]{43}", aes_key or ""):
        raise BadRequest("EncodingAESKey must be 43 letters or digits", code="invalid_aes_key")


def create_self_built(
    *,
    name: str,
    corp_id: str,
    agent_id: str,
    wecom_secrets: dict[str, str],
    tenant_key: str | None = None,
    auto_sync_customers: bool = False,
    public_base_url: str | None = None,
    corp_name: str | None = None,
    corp_full_name: str | None = None,
) -> Tenant:
    """Store a self-built-app tenant: its secrets go to Secrets Manager, the record only names them.

    WeCom has no API that tells a self-built app its corp's name, so the corp's short and full names are what the
    operator gives here; when they are not given, the first sync learns the short name from a member's external
    profile (`tenants.corp_info`)."""
    tenant_key = validate_tenant_key(tenant_key or new_tenant_key())
    if not name or len(name) > 100:
        raise BadRequest("name must be 1-100 characters", code="invalid_name")
    _validate_corp(corp_id)
    missing = [key for key in SELF_BUILT_SECRETS if not wecom_secrets.get(key)]
    if missing:
        raise BadRequest(f"missing secrets: {', '.join(missing)}", code="missing_secrets")
    _validate_aes_key(wecom_secrets["callback_aes_key"])
    if not str(agent_id).isdigit():
        raise BadRequest("agentid must be a number", code="invalid_agent_id")
    if public_base_url and not re.match(r"^https?://", public_base_url):
        raise BadRequest("public base URL must start with http:// or https://", code="invalid_base_url")
    for given in (corp_name, corp_full_name):
        if given is not None and not 1 <= len(given.strip()) <= 100:
            raise BadRequest("a corp name must be 1-100 characters", code="invalid_corp_name")
    secret_id = secret_id_for(tenant_key)
    tenant = Tenant(
        tenant_key,
        name=name,
        mode=SELF_BUILT,
        corp_id=corp_id,
        corp_name=corp_name.strip() if corp_name else None,
        corp_full_name=corp_full_name.strip() if corp_full_name else None,
        agent_id=str(agent_id),
        secret_id=secret_id,
        settings=TenantSettings(auto_sync_customers=auto_sync_customers, public_base_url=public_base_url),
    )
    stored = {key: wecom_secrets[key] for key in SELF_BUILT_SECRETS}
    if wecom_secrets.get("admin_token"):
        stored["admin_token"] = wecom_secrets["admin_token"]
    secrets.put(secret_id, stored)
    return lookup.index_tenant(tenants.create(tenant))  # findable by name from other organisations


def create_suite_tenant(*, corp_id: str, corp_name: str, agent_id: str | None, permanent_code: str,
                        corp_full_name: str | None = None) -> Tenant:
    """The tenant a suite authorisation creates; callbacks for it are signed with the suite's keys."""
    _validate_corp(corp_id)
    tenant_key = new_tenant_key()
    secret_id = secret_id_for(tenant_key)
    secrets.put(secret_id, {"permanent_code": permanent_code})
    tenant = Tenant(
        tenant_key,
        name=corp_full_name or corp_name or corp_id,
        mode=SUITE,
        corp_id=corp_id,
        corp_name=corp_name or None,
        corp_full_name=corp_full_name or None,
        agent_id=agent_id,
        secret_id=secret_id,
        settings=TenantSettings(auto_sync_customers=True),
    )
    return lookup.index_tenant(tenants.create(tenant))  # findable by name from other organisations


def describe(tenant: Tenant) -> dict:
    """What an operator or admin may see of a tenant: never a secret, only where the secrets live."""
    settings = tenant.settings
    return {
        "tenantKey": tenant.tenant_key,
        "name": tenant.name,
        "mode": tenant.mode,
        "corpId": tenant.corp_id,
        "corpName": tenant.corp_name,
        "corpFullName": tenant.corp_full_name,
        "agentId": tenant.agent_id,
        "secretId": tenant.secret_id,
        "enabled": tenant.enabled,
        "settings": {
            "autoSyncCustomers": settings.auto_sync_customers,
            "defaultSecurityLevel": int(settings.default_security_level),
            "publicBaseUrl": public_base_url(tenant),
            "customerDimensionName": settings.customer_dimension_name,
            "chainDimensionName": settings.chain_dimension_name,
            "wechatDefaultOrgName": settings.wechat_default_org_name,
            "profileLinkTitle": settings.profile_link_title,
        },
        "createdAt": tenant.created_at.isoformat(),
        "updatedAt": tenant.updated_at.isoformat(),
    }
