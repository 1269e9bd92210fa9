"""Where a tenant's pages are reached from a phone: under the tenant's own public base URL when it set one, else the
deployment's (`YQ_PUBLIC_BASE_URL`). Every link Yunqiao hands out — the 与我协作 link, activation and invitation links,
the cards of notifications — is made here, so they all follow that one rule."""
from __future__ import annotations

from chalicelib.core import config
from chalicelib.store.tenants import Tenant


def public_base_url(tenant: Tenant) -> str:
    """The tenant's public base URL, without a trailing slash."""
    return (tenant.settings.public_base_url or config.public_base_url()).rstrip("/")


def public_url(tenant: Tenant, path: str) -> str:
    """`path` (with its query and fragment, already encoded) under the tenant's public base URL."""
    return f"{public_base_url(tenant)}{path}"
