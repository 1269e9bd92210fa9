"""A tenant's settings as its admins see and change them (设置): one aggregate, one write path, every change audited.

What is stored where: the switches and names are the tenant record's `settings` (written only through
`chalicelib.store.tenants.update_settings`), the apps opened to external users are the accounts table's `apps` item
(`chalicelib.accounts.apps`), the official account's secret is `wechat_oa_secret` in the tenant's Secrets Manager
secret. A request is validated whole before anything is written, so a bad value changes nothing.

When a change is seen: the sync, the callbacks' processing and contact creation read the tenant afresh, so
auto-sync and the default security level hold from the next event; paths that read the tenant through the
one-minute cache (`store.tenants.get_enabled_recent`: the callback intake, the external home's tenant name) see it
within that minute.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from chalicelib.sync import triggers
from chalicelib.accounts import apps
from chalicelib.core import config
from chalicelib.core.errors import BadRequest
from chalicelib.core.observability import logger
from chalicelib.directory import audit, validation
from chalicelib.store import secrets
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import Tenant
from chalicelib.tenants import official_account

# The audit trail of the settings lives beside the contacts' trails, under a subject no contact id can take ('@').
AUDIT_SUBJECT = "@settings"
ACTION = "settings"
NAME_MAX = 32
URL_MAX = 200
APP_ID = re.compile(r"^wx[0-9A-Za-z]{8,30}$")
TEMPLATE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
SECRET_MAX = 128
LOOPBACK = ("localhost", "127.0.0.1", "::1")

# JSON field → TenantSettings attribute, for the settings stored on the tenant record.
_NAMES = {
    "customerDimensionName": "customer_dimension_name",
    "chainDimensionName": "chain_dimension_name",
    "wechatDefaultOrgName": "wechat_default_org_name",
}
FIELDS = ("autoSyncCustomers", "defaultSecurityLevel", *_NAMES, "publicBaseUrl", "externalApps", "officialAccount")
OA_FIELDS = ("appId", "secret", "templateId")


def view(tenant: Tenant) -> dict[str, Any]:
    """Every setting as the admin console shows it; of the official account's secret only whether one is stored."""
    settings = tenant.settings
    app_id = official_account.app_id(tenant)
    return {
        "tenantKey": tenant.tenant_key,
        "name": tenant.name,
        "mode": tenant.mode,
        "autoSyncCustomers": bool(settings.auto_sync_customers),
        "defaultSecurityLevel": int(settings.default_security_level or 0),
        **{field: getattr(settings, attribute) for field, attribute in _NAMES.items()},
        "publicBaseUrl": settings.public_base_url,
        "effectivePublicBaseUrl": (settings.public_base_url or config.public_base_url()).rstrip("/"),
        "externalApps": apps.catalogue(tenant.tenant_key),
        "officialAccount": {
            "appId": app_id,
            "templateId": (settings.official_account_template_id or None),
            "secretStored": bool(secrets.get(tenant.secret_id).get(official_account.SECRET_KEY)),
        },
        "updatedAt": tenant.updated_at.isoformat(),
    }


def _bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false", code=f"invalid_{field}")
    return value


def _name(field: str, value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > NAME_MAX or any(ord(ch) < 32 for ch in text):
        raise BadRequest(f"{field} must be 1-{NAME_MAX} characters", code=f"invalid_{field}")
    return text


def public_base_url(value: object) -> str | None:
    """An https base URL of a real host (http only for this machine), without path parameters; None clears it (the
    stage's own URL is used). A placeholder host (`*.example.com`, `*.invalid`) is refused: links built on it would
    lead contacts nowhere — the same check the profile-link writer applies (`config.is_placeholder_url`)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > URL_MAX:
        raise BadRequest(f"publicBaseUrl must be a URL of at most {URL_MAX} characters", code="invalid_publicBaseUrl")
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port == 0:  # reading the port also raises ValueError when it is malformed or out of range
            raise ValueError("port 0")
    except ValueError:
        raise BadRequest("publicBaseUrl is not a valid URL", code="invalid_publicBaseUrl") from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)
    if not secure or not host or parts.query or parts.fragment or parts.username or parts.password:
        raise BadRequest("publicBaseUrl must be https://host[/path] (http only for localhost), without query or "
                         "credentials", code="invalid_publicBaseUrl")
    if config.is_placeholder_url(url):
        raise BadRequest(f"publicBaseUrl {url!r} is a placeholder host: give the address phones really reach",
                         code="public_base_url_placeholder")
    return url


def _official_account(value: object, tenant: Tenant) -> dict[str, Any]:
    """{appId, secret, templateId}, each optional; appId null disconnects the account (its secret is removed)."""
    if not isinstance(value, dict) or not value or set(value) - set(OA_FIELDS):
        raise BadRequest(f"officialAccount must be an object with some of {', '.join(OA_FIELDS)}",
                         code="invalid_officialAccount")
    clean: dict[str, Any] = {}
    if "appId" in value:
        app_id = value["appId"]
        if app_id is not None and not (isinstance(app_id, str) and APP_ID.match(app_id)):
            raise BadRequest("officialAccount.appId must be the account's AppID (wx…)", code="invalid_appId")
        clean["appId"] = app_id
    if "templateId" in value:
        template = value["templateId"]
        if template is not None and not (isinstance(template, str) and TEMPLATE_ID.match(template)):
            raise BadRequest("officialAccount.templateId must be 1-64 letters, digits, '_' or '-'",
                             code="invalid_templateId")
        clean["templateId"] = template
    if "secret" in value:
        secret = value["secret"]
        if not isinstance(secret, str) or not 1 <= len(secret.strip()) <= SECRET_MAX:
            raise BadRequest(f"officialAccount.secret must be 1-{SECRET_MAX} characters", code="invalid_secret")
        clean["secret"] = secret.strip()
    app_id = clean.get("appId", official_account.app_id(tenant))
    if app_id is None and (clean.get("secret") or clean.get("templateId")):
        raise BadRequest("bind the official account's appId before its secret or template", code="invalid_appId")
    return clean


def _validated(tenant: Tenant, body: dict) -> dict[str, Any]:
    if not body:
        raise BadRequest(f"nothing to change: give one or more of {', '.join(FIELDS)}", code="empty_settings")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown settings: {', '.join(unknown)}; known: {', '.join(FIELDS)}",
                         code="unknown_setting")
    clean: dict[str, Any] = {}
    for field, value in body.items():
        if field == "autoSyncCustomers":
            clean[field] = _bool(field, value)
        elif field == "defaultSecurityLevel":
            try:
                clean[field] = validation.security_level(value)
            except BadRequest as err:
                raise BadRequest(err.message.replace("securityLevel", field), code="invalid_defaultSecurityLevel")
        elif field in _NAMES:
            clean[field] = _name(field, value)
        elif field == "publicBaseUrl":
            clean[field] = public_base_url(value)
        elif field == "externalApps":
            if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
                raise BadRequest("externalApps must be a list of app keys", code="invalid_apps")
            unknown_apps = sorted(set(value) - set(apps.CATALOGUE))
            if unknown_apps:
                raise BadRequest(f"unknown apps: {', '.join(unknown_apps)}; known: {', '.join(apps.CATALOGUE)}",
                                 code="unknown_app")
            clean[field] = [key for key in apps.CATALOGUE if key in set(value)]
        else:
            clean[field] = _official_account(value, tenant)
    return clean


def change(tenant: Tenant, body: dict, actor: str) -> dict[str, Any]:
    """Apply an admin's changes (validated whole first), audit what changed, and act on it: auto-sync turned on
    queues a full sync now, so customers arrive without waiting for the schedule."""
    clean = _validated(tenant, body)
    settings = tenant.settings
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    record: dict[str, object] = {}
    for field, attribute in (("autoSyncCustomers", "auto_sync_customers"),
                             ("defaultSecurityLevel", "default_security_level"),
                             *_NAMES.items(), ("publicBaseUrl", "public_base_url")):
        if field in clean:
            old = getattr(settings, attribute)
            before[field] = int(old) if field == "defaultSecurityLevel" else old
            after[field] = record[attribute] = clean[field]
    oa = clean.get("officialAccount", {})
    if "appId" in oa:
        before["officialAccountAppId"] = settings.official_account_app_id
        after["officialAccountAppId"] = record["official_account_app_id"] = oa["appId"]
    if "templateId" in oa:
        before["officialAccountTemplateId"] = settings.official_account_template_id
        after["officialAccountTemplateId"] = record["official_account_template_id"] = oa["templateId"]
    stored = bool(oa) and bool(secrets.get(tenant.secret_id).get(official_account.SECRET_KEY))
    new_secret = oa.get("secret")  # None with appId null: the account is disconnected, its secret removed
    secret_change = new_secret is not None or ("appId" in oa and oa["appId"] is None and stored)
    if secret_change:
        # The audit says that the secret changed, never what it is.
        before["officialAccountSecret"] = "stored" if stored else None
        after["officialAccountSecret"] = ("replaced" if stored else "stored") if new_secret else None
    if "externalApps" in clean:
        before["externalApps"] = [app["key"] for app in apps.open_apps(tenant.tenant_key)]
        after["externalApps"] = clean["externalApps"]

    if record:
        tenant_store.update_settings(tenant, record)
    if secret_change:
        current = dict(secrets.get(tenant.secret_id))
        if new_secret:
            current[official_account.SECRET_KEY] = new_secret
        else:
            current.pop(official_account.SECRET_KEY, None)
        secrets.put(tenant.secret_id, current)
    if "externalApps" in clean:
        apps.set_open_apps(tenant.tenant_key, clean["externalApps"], actor)
    audit.record_if_changed(tenant.tenant_key, AUDIT_SUBJECT, actor, ACTION, before, after)
    changed, _ = audit.changed_fields(before, after)
    logger.info("tenant settings changed", extra={"fields": sorted(changed), "actor": actor})
    if after.get("autoSyncCustomers") is True and before.get("autoSyncCustomers") is not True:
        triggers.request_sync(tenant, trigger="settings")
    return view(tenant_store.get(tenant.tenant_key))


def history(tenant_key: str, cursor: str | None, limit: int) -> dict[str, Any]:
    """The settings' audit trail, newest first: who, when, before → after."""
    return audit.history(tenant_key, AUDIT_SUBJECT, cursor, limit)
