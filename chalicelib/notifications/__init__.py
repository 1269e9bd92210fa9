"""Telling people things, through a queue: an application to approve, a decision, a comment, a shared item.

Whoever causes a notification only queues it (one SendMessage), so a WeCom or WeChat outage never blocks or fails
the action itself; the consumer retries with backoff and dead-letters with the reason. Each message names a
channel; `CHANNELS` maps it to the function that delivers it:
- `wecom_app`: a text card to internal members through the tenant's WeCom app (message/send, duplicate check on, so
  a redelivered message is not shown twice).
- `wechat_template`: a template message to an external contact through the tenant's WeChat official account, when
  they follow it (queued by `chalicelib.sharing`).
"""
from __future__ import annotations

from typing import Callable, Iterable

from chalicelib.core.errors import PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import logger
from chalicelib.store import queues, tenants
from chalicelib.wecom.errors import RateLimited, WeComApiError
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.tenants.official_account import deliver_template

WECOM_APP = "wecom_app"
# message/send refusals that no retry can fix: no valid recipient, no app, app not allowed to message them.
PERMANENT_WECOM_ERRORS = {81013, 40056, 301002, 60020, 48002}


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


def _send_wecom_app(tenant: tenants.Tenant, body: dict) -> None:
    """Send the card. A consumer never idles for rate-limit permits: it hands the message back (RetryLater)."""
    if not body.get("touser") or not isinstance(body.get("textcard"), dict):
        raise PermanentError("malformed_message", "a wecom_app message needs touser and textcard")
    try:
        result = client_for_tenant(tenant, wait_for_permits=False).send_message(body["touser"],
                                                                                textcard=body["textcard"])
    except RateLimited as err:
        raise RetryLater(max(1, int(err.retry_after)), "rate_limited") from None
    except WeComApiError as err:
        if err.errcode in PERMANENT_WECOM_ERRORS:
            raise PermanentError("wecom_refused", f"{err.errcode}: {err.errmsg}") from err
        raise
    refused = result["invaliduser"] + result["unlicenseduser"]
    if refused:
        logger.warning("notification not delivered to some members", extra={"refused": refused})


WECHAT_TEMPLATE = "wechat_template"


def _send_wechat_template(tenant: tenants.Tenant, body: dict) -> None:
    """A template message through the tenant's WeChat official account to an external contact who follows it
    (otherwise nothing); see `chalicelib.tenants.official_account.deliver_template`."""
    deliver_template(tenant, body)


CHANNELS: dict[str, Callable[[tenants.Tenant, dict], None]] = {
    WECOM_APP: _send_wecom_app,
    WECHAT_TEMPLATE: _send_wechat_template,
}


def process_message(body: dict) -> None:
    """Deliver one queued notification; unknown tenants and channels can never succeed and are dead-lettered."""
    send = CHANNELS.get(body.get("channel", ""))
    if send is None:
        raise PermanentError("unknown_channel", str(body.get("channel")))
    try:
        tenant = tenants.get_enabled(body.get("tenantKey") or "")
    except TenantNotFound as err:
        raise PermanentError("unknown_tenant", str(body.get("tenantKey"))) from err
    send(tenant, body)
