"""What each queued WeCom event does, once it is safely off the HTTP path.

Every action is idempotent and looks WeCom up rather than trusting the event's snapshot, so redeliveries,
duplicates and events arriving out of order all end in the state WeCom has.
"""
from __future__ import annotations

from chalicelib.directory import customers
from chalicelib.tenants import members
from chalicelib.tenants import suite
from chalicelib.core.errors import PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import logger
from chalicelib.store import tenants as tenant_store
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.errors import RateLimited, WeComApiError
from chalicelib.wecom.events import (
    ChainChange,
    ContactChange,
    ExternalContactChange,
    ShareChainChange,
    WeComEvent,
    event_from_fields,
    official_account_event,
)
from chalicelib.followers import events as follower_events
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.sync import triggers
from chalicelib.profile_links import runs

CUSTOMER_REFRESH = frozenset({"add_external_contact", "edit_external_contact", "add_half_external_contact"})
FOLLOW_REMOVED = frozenset({"del_external_contact", "del_follow_user"})


def process(message: dict) -> None:
    """Apply one queued callback message (`{"tenantKey" | "suiteId", "event": fields}`; an official account's carries
    `officialAccount`: its appid)."""
    if not isinstance(message.get("event"), dict):
        raise PermanentError("malformed_message", "no event fields")
    event = event_from_fields(message["event"])
    try:
        if message.get("suiteId"):
            suite.process_instruction(message["suiteId"], event)
            return
        try:
            tenant = tenant_store.get(message.get("tenantKey") or "")
        except TenantNotFound as err:
            raise PermanentError("tenant_not_found", err.message) from None
        if not tenant.enabled:
            logger.info("event for a disabled tenant ignored", extra={"kind": event.kind})
            return
        if message.get("officialAccount"):
            follower_events.apply(tenant, message["officialAccount"], official_account_event(message["event"]))
            return
        _apply(tenant, event)
    except RateLimited as err:
        raise RetryLater(max(1, int(err.retry_after)), "rate_limited") from None
    except WeComApiError as err:
        if err.transient or err.token_invalid:
            raise
        raise PermanentError(f"wecom_{err.errcode}", str(err)) from None


def _client(tenant: Tenant):
    """A consumer never idles waiting for rate-limit permits: it hands the message back (RetryLater) instead."""
    return client_for_tenant(tenant, wait_for_permits=False)


def _apply(tenant: Tenant, event: WeComEvent) -> None:
    if isinstance(event, ExternalContactChange):
        _customer_changed(tenant, event)
    elif isinstance(event, ContactChange):
        _member_changed(tenant, event)
    elif isinstance(event, ChainChange):
        triggers.request_chain_sync(tenant, event.chain_id)
    elif isinstance(event, ShareChainChange):
        triggers.request_shared_sync(tenant)
    else:
        logger.info("event ignored", extra={"kind": event.kind, "changeType": event.change_type})


def _customer_changed(tenant: Tenant, event: ExternalContactChange) -> None:
    if event.change_type == "transfer_fail":
        customers.record_transfer_failure(tenant, event.external_user_id, event.user_id, event.fail_reason)
        return
    if event.change_type in CUSTOMER_REFRESH | FOLLOW_REMOVED:
        create = event.change_type in CUSTOMER_REFRESH and bool(tenant.settings.auto_sync_customers)
        outcome = customers.refresh(tenant, _client(tenant), event.external_user_id, create=create)
        logger.info("customer refreshed", extra={"changeType": event.change_type, "outcome": outcome})


def _member_changed(tenant: Tenant, event: ContactChange) -> None:
    if event.change_type == "create_user":
        if members.refresh(tenant, _client(tenant), event.user_id):
            runs.request_members(tenant, [event.user_id], trigger="create_user")
    elif event.change_type == "update_user":
        user_id = event.user_id
        if event.new_user_id and event.new_user_id != event.user_id:
            members.rename(tenant, event.user_id, event.new_user_id)
            user_id = event.new_user_id
        members.refresh(tenant, _client(tenant), user_id)
    elif event.change_type == "delete_user":
        # Callbacks arrive out of order: a delete delivered after a newer create must not lock the member out.
        if members.refresh(tenant, _client(tenant), event.user_id):
            logger.info("stale delete_user ignored: WeCom still has the member")
        else:
            members.remove(tenant, event.user_id)
    else:
        logger.info("contact event ignored", extra={"changeType": event.change_type})
