"""Queueing a notification: what the actions that cause one call. One SendMessage, never raising, so the action
itself never fails or waits for WeCom or WeChat (see `chalicelib.notifications.delivery` for the consumer)."""
from __future__ import annotations

from typing import Iterable

from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.followers import reach
from chalicelib.store import queues
from chalicelib.store.contacts import Contact
from chalicelib.store.tenants import Tenant

WECOM_APP = "wecom_app"
WECHAT_TEMPLATE = "wechat_template"


def queue(body: dict) -> str | None:
    """Queue one notification message. Never raises: whatever caused the notification has happened already, so a
    queue that refuses is logged and answered with the error's name (None when queued)."""
    try:
        queues.send(queues.NOTIFICATIONS.logical_name, body)
    except Exception as err:
        logger.exception("could not queue a notification", extra={"channel": body.get("channel")})
        return type(err).__name__
    return None


def notify_members(tenant_key: str, user_ids: Iterable[str], *, title: str, description: str,
                   url: str) -> str | None:
    """Queue a text card to these members (nothing without recipients); the error's name if it could not be."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return None
    return queue({
        "tenantKey": tenant_key,
        "channel": WECOM_APP,
        "touser": recipients,
        "textcard": {"title": title[:128], "description": description[:512], "url": url, "btntxt": "详情"},
    })


def notify_contact(tenant: Tenant, contact: Contact, *, first: str, title: str, what: str, url: str, key: str,
                   remark: str | None = None) -> dict:
    """Queue a WeChat template message to an external contact through the tenant's official account, and say what
    happened: `{"channel", "queued"}`, plus `reason` when nothing was queued (`no_official_account`, `openid_unknown`,
    `not_following`, `lookup_error`, `queue_error`). The openid is the one their sign-in confirmed or, for a contact
    who never signed in, the follower of their unionid (`followers.reach`); whether they still follow is asked again
    when it is delivered. `key` names what the message is about; with the time it makes WeChat's duplicate check id.
    Never raises."""
    settings = tenant.settings
    appid = (settings.official_account_app_id or "").strip()
    if not appid or not (settings.official_account_template_id or "").strip():
        return {"channel": None, "queued": False, "reason": "no_official_account"}
    try:
        found = reach.openid_of(tenant.tenant_key, appid, contact)
    except Exception:
        logger.exception("could not look up the contact's openid")
        return {"channel": None, "queued": False, "reason": "lookup_error"}
    if found.openid is None:
        logger.info("contact not reachable in WeChat", extra={"reason": found.reason})
        return {"channel": None, "queued": False, "reason": found.reason}
    at = clock.now()
    failure = queue({
        "tenantKey": tenant.tenant_key, "channel": WECHAT_TEMPLATE, "openid": found.openid,
        "first": first, "title": title, "what": what, "remark": remark, "at": at, "url": url,
        "clientMsgId": f"{key}:{contact.contact_id}:{int(at * 1000)}",
    })
    if failure:
        return {"channel": WECHAT_TEMPLATE, "queued": False, "reason": "queue_error"}
    return {"channel": WECHAT_TEMPLATE, "queued": True}
