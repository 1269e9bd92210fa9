"""Which openid a WeChat message to a contact goes to, or why none.

The openid their WeChat sign-in confirmed (on their home) wins over one typed into the directory; without either,
the follower of their unionid — which the WeCom customer sync knows — is found through `store.followers`, so a
contact who follows the account is reached without ever signing in. A person recorded as no longer following gets
nothing (`not_following`); the delivery still asks the account at send time, which is the final word.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.store import followers, shares
from chalicelib.store.contacts import Contact

OPENID_UNKNOWN = "openid_unknown"
NOT_FOLLOWING = "not_following"


@dataclass(frozen=True)
class Reach:
    openid: str | None
    reason: str | None = None  # why there is no openid
    via: str | None = None  # sign_in | directory | follower


def openid_of(tenant_key: str, appid: str, contact: Contact) -> Reach:
    home = shares.get_home(tenant_key, contact.contact_id)
    known = (home.openid if home is not None else None) or contact.openid
    if known:
        row = followers.get(tenant_key, known)
        if row is not None and row.appid == appid and not row.following:
            return Reach(None, NOT_FOLLOWING)
        return Reach(known, via="sign_in" if home is not None and home.openid else "directory")
    if contact.unionid:
        row = followers.find_by_unionid(tenant_key, appid, contact.unionid)
        if row is not None:
            return Reach(row.openid, via="follower") if row.following else Reach(None, NOT_FOLLOWING)
    return Reach(None, OPENID_UNKNOWN)
