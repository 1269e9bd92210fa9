"""The OAuth round trip to WeChat / WeCom and back: where the provider may send the browser back to.

(The per-visit `state` that proves the browser coming back is the one that left joins this module next.)
"""
from __future__ import annotations

from urllib.parse import urlsplit

from chalicelib.core import config
from chalicelib.core.errors import BadRequest
from chalicelib.store.tenants import Tenant

MAX_REDIRECT = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}


def public_base(tenant: Tenant) -> str:
    """Where the tenant's pages are served: its own public base URL, or the deployment's."""
    return (tenant.settings.public_base_url or config.public_base_url()).rstrip("/")


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None or port is None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def check_redirect(tenant: Tenant, redirect_uri: str) -> str:
    """`redirect_uri` if it lies on the tenant's own origin (scheme, host and port of its public base URL), else
    400 `invalid_redirect`: the OAuth code must never be handed to a page someone else controls."""
    wanted = _origin(public_base(tenant))
    clean = bool(redirect_uri) and len(redirect_uri) <= MAX_REDIRECT and redirect_uri.isprintable() \
        and " " not in redirect_uri and "\\" not in redirect_uri
    if not clean or wanted is None or _origin(redirect_uri) != wanted:
        raise BadRequest("redirectUri must be a page of this team's own site", code="invalid_redirect")
    return redirect_uri
