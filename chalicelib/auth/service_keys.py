"""The tenant's service key: the credential its integrations (the eteams modules that own items) use to register
items for their owners. Scoped to that one route; every other route refuses it.

A key is `yqs1.<tenantKey>.<secret>` with 256 random bits of secret, sent as `Authorization: Service <key>`. Only the
secret's SHA-256 is stored (on the tenant record), compared in constant time; issuing a new key (an admin's route or
`python -m ops tenants service-key`) replaces the hash, so the previous key stops working at once. The key names its
tenant, so checking it is one GetItem — uncached, so that a rotation is felt by every instance.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Mapping

from chalicelib.core.errors import AppError, Unauthorized
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import Tenant

PREFIX = "yqs1"
SCHEME = "service"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(tenant: Tenant) -> tuple[str, datetime]:
    """A new key for the tenant (shown once; only its hash is kept) and when it was issued."""
    secret = secrets.token_urlsafe(32)
    issued_at = tenant_store.set_service_key_hash(tenant, _digest(secret))
    return f"{PREFIX}.{tenant.tenant_key}.{secret}", issued_at


def presented(headers: Mapping[str, str]) -> str | None:
    """The key of an `Authorization: Service <key>` header; None when the request uses another scheme or none."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "") or ""
    scheme, _, key = value.partition(" ")
    return key.strip() if scheme.lower() == SCHEME else None


def service_tenant(key: str) -> Tenant:
    """The enabled tenant whose current service key this is; 401 `invalid_service_key` whatever is wrong with it."""
    refused = Unauthorized("the service key is missing, malformed, rotated or of no team", code="invalid_service_key")
    parts = key.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or len(parts[2]) < 32 or not parts[2].isascii():
        raise refused
    try:
        tenant = tenant_store.get_enabled(parts[1])
    except AppError:
        raise refused from None
    if not tenant.service_key_hash or not hmac.compare_digest(_digest(parts[2]), tenant.service_key_hash):
        raise refused
    return tenant
