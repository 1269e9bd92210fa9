"""The 与我协作 entry itself: its URL and title, whether Yunqiao may write it, and the write to one member's profile
that touches only our entry."""
from __future__ import annotations

from typing import Callable
from urllib.parse import urlencode

from chalicelib.core import config
from chalicelib.core.errors import Conflict
from chalicelib.store import secrets
from chalicelib.store.tenants import SELF_BUILT, SUITE, Tenant
from chalicelib.tenants.urls import public_base_url, public_url
from chalicelib.wecom.client import WeComClient

ATTRIBUTE_NAME = "与我协作"  # must exist among the corp's external attributes, or WeCom drops the entry silently
WEB = 1  # external_attr type of a web link
TITLE_MAX = 12  # WeCom's limit on a web entry's title, in characters
HOME_PATH = "/mobile/wechat/external/home"


class PlaceholderBaseUrl(Conflict):
    code = "public_base_url_placeholder"

    def __init__(self, base: str) -> None:
        super().__init__(
            f"the public base URL {base!r} is a placeholder: set the stage's domain (or the tenant's own public base "
            "URL) before profile links are written"
        )


def link_url(tenant: Tenant) -> str:
    """The tenant's external home page, under the tenant's own public base URL when it has one.

    Refuses (PlaceholderBaseUrl) a base that is no real deployment's — `https://yunqiao.example.com`, empty: written
    onto thousands of members' profiles, such a link would send their external contacts nowhere."""
    if config.is_placeholder_url(public_base_url(tenant)):
        raise PlaceholderBaseUrl(public_base_url(tenant))
    return public_url(tenant, f"{HOME_PATH}?{urlencode({'tenantKey': tenant.tenant_key})}")


def link_title(tenant: Tenant) -> str:
    """The configured title, cut to WeCom's 12 characters: a longer one would make WeCom refuse every write."""
    title = (tenant.settings.profile_link_title or "").strip() or ATTRIBUTE_NAME
    return title[:TITLE_MAX]


def can_write(tenant: Tenant) -> bool:
    """Whether Yunqiao may write the tenant's member profiles itself (see the package's docstring)."""
    if tenant.mode == SUITE:
        return True
    if tenant.mode == SELF_BUILT:
        return bool(secrets.get(tenant.secret_id).get("contacts_secret"))
    return False


def manual_link(tenant: Tenant) -> dict:
    """What an admin pastes into a member's external profile by hand (and whether Yunqiao writes it anyway)."""
    return {
        "name": ATTRIBUTE_NAME,
        "type": "web",
        "url": link_url(tenant),
        "title": link_title(tenant),
        "automatic": can_write(tenant),
    }


def _is_current(entry: dict, url: str, title: str) -> bool:
    web = entry.get("web") or {}
    return entry.get("type") == WEB and web.get("url") == url and web.get("title") == title


def merged_profile(profile: dict | None, url: str, title: str) -> dict | None:
    """The external_profile to write back so that it carries the link, or None when it already does.

    Only the 与我协作 entry is ours. Every other entry keeps its place and content, and every other field of the
    profile (external_corp_name, ...) goes back exactly as read: whether WeCom clears what an update omits is
    unverified, so the whole profile is written. An outdated entry of ours is replaced where it stands; a second
    one is dropped, since a profile shows one link.
    """
    current = dict(profile or {})
    entries = list(current.get("external_attr") or [])
    ours = {"type": WEB, "name": ATTRIBUTE_NAME, "web": {"url": url, "title": title}}
    merged: list[dict] = []
    placed = False
    for entry in entries:
        if entry.get("name") != ATTRIBUTE_NAME:
            merged.append(entry)
        elif not placed:
            merged.append(entry if _is_current(entry, url, title) else ours)
            placed = True
    if not placed:
        merged.append(ours)
    if merged == entries:
        return None
    return {**current, "external_attr": merged}


def write_member(client: WeComClient, user_id: str, url: str, title: str,
                 before_write: Callable[[], None] = lambda: None) -> bool:
    """Make the member's profile carry the link: user/get, then user/update only if it differs. True if written.

    `before_write` runs just before user/update, so the caller can note the write ahead of it."""
    member = client.get_member(user_id)
    profile = merged_profile(member.get("external_profile"), url, title)
    if profile is None:
        return False
    before_write()
    client.update_member(user_id, {"external_profile": profile})
    return True
