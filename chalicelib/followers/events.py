"""Applying an official account's follower events (queued by `callbacks.intake`, run by `callbacks.processing`).

Events arrive late, twice or out of order: each is recorded with its CreateTime and `store.followers.record` keeps
only the newest fact, so an unfollow delivered after a later follow never stops messages to a follower.
"""
from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.errors import PermanentError
from chalicelib.core.observability import logger
from chalicelib.store import followers
from chalicelib.store.tenants import Tenant
from chalicelib.tenants import official_account
from chalicelib.wecom.events import FollowEvent, WeComEvent


def apply(tenant: Tenant, appid: str, event: WeComEvent) -> None:
    """A follow or scan learns the person's unionid from the account (user/info, whose `subscribe` is the truth at
    that moment); an unfollow marks them not following. Anything else the account pushes is ignored."""
    if not isinstance(event, FollowEvent) or not event.openid:
        logger.info("official account event ignored", extra={"kind": event.kind})
        return
    if official_account.app_id(tenant) != appid:
        logger.info("event of an official account the tenant no longer uses ignored", extra={"kind": event.kind})
        return
    at = float(event.create_time or clock.now())
    if not event.follows:
        written = followers.record(tenant.tenant_key, appid, event.openid, following=False, at=at, source=event.kind)
        logger.info("official account unfollowed", extra={"applied": written})
        return
    client = official_account.client_for(tenant)
    if client is None:
        raise PermanentError("wechat_not_configured", "no official account secret for the tenant")
    info = client.user_info(event.openid)
    following = int(info.get("subscribe") or 0) == 1
    written = followers.record(tenant.tenant_key, appid, event.openid, following=following, at=at, source=event.kind,
                               unionid=info.get("unionid") or None, scene=event.scene or None)
    logger.info("official account follower recorded",
                extra={"kind": event.kind, "following": following, "unionid": bool(info.get("unionid")),
                       "applied": written})
