"""Delivering a queued notification: the channels (`CHANNELS`) and the consumer's rules — refusals no retry can fix
are dead-lettered, rate limits hand the message back."""
from __future__ import annotations

from typing import Callable

from chalicelib.core.errors import PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import logger
from chalicelib.notifications.queueing import WECHAT_TEMPLATE, WECOM_APP
from chalicelib.store import tenants
from chalicelib.tenants.official_account import deliver_template
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.wecom.errors import RateLimited, WeComApiError



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
        if err.message_refused:
            raise PermanentError("wecom_refused", f"{err.errcode}: {err.errmsg}") from err
        raise
    refused = result["invaliduser"] + result["unlicenseduser"]
    if refused:
        logger.warning("notification not delivered to some members", extra={"refused": refused})


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
