"""Exact-name lookups across tenants: which tenant is called X, which of its members is called Y.

Both are indexes of hashes in the invitations table, written as names are seen — a tenant when it is created or
renamed (`index_tenant`, called from `chalicelib.tenants.onboarding` and the suite's change_auth), a member whenever WeCom
reports them (`remember_member`, called from `chalicelib.tenants.members.refresh`: sign-in, contact callbacks, role grants).
Matching is exact after normalisation, never partial: the index is keyed by the hash of the whole normalised name, so
there is nothing to enumerate by prefix. Normalising accepts what people actually type for a name they know: Unicode
NFKC (full-width letters and brackets), case folded, whitespace ignored ("云桥 演示" is "云桥演示"); an organisation's
name also without a bracketed place and a trailing legal form, so the corp's full name "云桥合作伙伴（杭州）有限公司"
finds the team registered as "云桥合作伙伴", and "Acme Co., Ltd." finds "ACME".
Entries are never trusted alone: a renamed tenant or member leaves a stale entry behind, so every hit is checked
against the current record before it counts.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from chalicelib.core.errors import TenantNotFound
from chalicelib.store import invitations as store
from chalicelib.store import members as member_store
from chalicelib.store import tenants as tenant_store

MAX_TENANTS_PER_NAME = 5  # organisations sharing one exact name that a search looks into
MAX_MEMBERS_PER_NAME = 5
# Legal forms a company's full name ends with, normalised (no spaces); the longest of overlapping ones first.
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "公司", "co.,ltd.", "co.,ltd", "co.ltd.", "co.ltd",
               "limited", "ltd.", "ltd", "incorporated", "inc.", "inc", "corporation", "corp.", "corp", "llc", "gmbh")
_BRACKETED = re.compile(r"\([^()]*\)")


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()


def organisation_key(text: str) -> str:
    """An organisation's name as it is indexed and looked up: normalised, bracketed parts (a place, an old name) and
    trailing legal forms removed — unless nothing would be left, then just normalised."""
    full = normalise(text)
    key = _BRACKETED.sub("", full)
    trimmed = True
    while trimmed and key not in LEGAL_FORMS:
        key = key.rstrip(",.·、")
        trimmed = False
        for form in LEGAL_FORMS:
            if key.endswith(form) and len(key) > len(form):
                key, trimmed = key[:-len(form)], True
                break
    return key or full


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def name_hash(text: str) -> str:
    return _digest(normalise(text))


def organisation_names(tenant: tenant_store.Tenant) -> set[str]:
    """The keys a tenant may be found by: its team name's and its corp name's (see `organisation_key`)."""
    return {organisation_key(name) for name in (tenant.name, tenant.corp_name, tenant.corp_full_name) if name and organisation_key(name)}


def index_tenant(tenant: tenant_store.Tenant) -> tenant_store.Tenant:
    """Make the tenant findable by its current names; returns it, so a creation path can wrap its return value."""
    for key in organisation_names(tenant):
        store.remember_organisation(_digest(key), tenant.tenant_key)
    return tenant


def remember_member(tenant_key: str, user_id: str, name: str | None) -> None:
    if name and normalise(name):
        store.remember_name(tenant_key, name_hash(name), user_id)


def tenants_named(organisation: str, exclude: str) -> list[tenant_store.Tenant]:
    """The enabled tenants currently called `organisation` (team or corp name, see `organisation_key`), other than
    `exclude`."""
    wanted = organisation_key(organisation)
    found = []
    for tenant_key in store.organisations_named(_digest(wanted), MAX_TENANTS_PER_NAME + 1):
        if tenant_key == exclude:
            continue
        try:
            tenant = tenant_store.get_enabled(tenant_key)
        except TenantNotFound:
            continue
        if wanted in organisation_names(tenant):
            found.append(tenant)
    return found[:MAX_TENANTS_PER_NAME]


def members_named(tenant_key: str, name: str) -> list[member_store.Member]:
    """The active members of a tenant currently called exactly `name`."""
    wanted = normalise(name)
    found = []
    for user_id in store.named(tenant_key, name_hash(wanted), MAX_MEMBERS_PER_NAME * 2):
        member = member_store.get(tenant_key, user_id)
        if member is not None and member.status == member_store.ACTIVE and normalise(member.name or "") == wanted:
            found.append(member)
    return found[:MAX_MEMBERS_PER_NAME]
