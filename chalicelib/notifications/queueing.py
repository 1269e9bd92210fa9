"""Queueing a notification: what the actions that cause one call. One SendMessage, never raising, so the action
itself never fails or waits for WeCom or WeChat (see `chalicelib.notifications.delivery` for the consumer)."""
from __future__ import annotations

from typing import Iterable

from chalicelib.core.observability import logger
from chalicelib.store import queues

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
