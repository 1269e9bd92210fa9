"""The profile-links queue's consumer: a listing message queues a corp's members, a member message writes that
member's link and records the outcome; transient failures go back to the queue, refusals are recorded."""
from __future__ import annotations

import math
import random
import time
from typing import NoReturn

from chalicelib.core.errors import PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import count, logger
from chalicelib.profile_links.link import PlaceholderBaseUrl, can_write, link_title, link_url, write_member
from chalicelib.profile_links.runs import LIST, MAX_DELAY_SECONDS, MEMBER, queue_members
from chalicelib.store import profile_links as store
from chalicelib.store import tenants as tenant_store
from chalicelib.store.profile_links import FAILED, LINKED, PENDING
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.errors import RateLimited, WeComApiError, WeComUnavailable
from chalicelib.tenants.wecom_clients import client_for_tenant

RATE_LIMIT_JITTER = 5
TENANT_CACHE_SECONDS = 60

_tenants: dict[str, tuple[float, Tenant]] = {}


def process_message(message: dict, *, attempt: int, final: bool) -> None:
    """Do one queued message. `attempt` is its receive count; `final` says it will not be redelivered after a failure
    (the queue dead-letters it), so a member still failing is recorded as failed rather than pending."""
    kind, tenant_key, run_id = message.get("kind"), message.get("tenantKey"), message.get("runId")
    if kind not in (MEMBER, LIST) or not tenant_key or not run_id or (kind == MEMBER and not message.get("userId")):
        raise PermanentError("malformed_message", "needs kind member|list, tenantKey, runId (and userId)")
    tenant = _tenant(tenant_key)
    if not tenant.enabled:
        logger.info("profile link message for a disabled tenant dropped", extra={"kind": kind})
        return
    if kind == LIST:
        list_run(tenant, run_id, str(message.get("trigger") or "unknown"))
    else:
        link_member(tenant, run_id, str(message["userId"]), attempt=attempt, final=final)


def _tenant(tenant_key: str) -> Tenant:
    """The tenant, kept a minute per process: a bulk run brings an instance thousands of messages of one tenant, and a
    read per message would double the run's DynamoDB requests. A settings change or a disabling takes effect within
    the minute."""
    cached = _tenants.get(tenant_key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        tenant = tenant_store.get(tenant_key)
    except TenantNotFound as err:
        raise PermanentError("tenant_not_found", err.message) from None
    _tenants[tenant_key] = (time.monotonic() + TENANT_CACHE_SECONDS, tenant)
    return tenant


def list_run(tenant: Tenant, run_id: str, trigger: str) -> None:
    """List the corp's members (user/list_id, every cursor) and queue one message per member, paced."""
    tenant_key = tenant.tenant_key
    if not can_write(tenant):  # it could when the run was started; the schedule's runs have no record yet
        if store.get_run(tenant_key, run_id) is not None:
            store.fail_listing(tenant_key, run_id, "the tenant may no longer write member profiles: manual link only")
        logger.info("profile link run skipped: manual link only", extra={"runId": run_id})
        return
    if not store.create_run(tenant_key, run_id, trigger):
        run = store.get_run(tenant_key, run_id)
        if run is not None and run.state != store.LISTING:
            return  # this listing already completed: a duplicate delivery must not queue the run twice
    try:
        link_url(tenant)
    except PlaceholderBaseUrl as err:
        store.fail_listing(tenant_key, run_id, err.message)
        count("ProfileLinkListFailed", errcode="placeholder_base_url")
        logger.error("profile link run refused", extra={"runId": run_id, "reason": err.message})
        return
    client = client_for_tenant(tenant, wait_for_permits=False)
    try:
        user_ids = list(client.list_member_ids())
    except RateLimited as err:
        raise RetryLater(_rate_limited_delay(err), "rate_limited") from None
    except WeComApiError as err:
        if err.transient or err.token_invalid:
            raise
        store.fail_listing(tenant_key, run_id, f"errcode {err.errcode}: {err.errmsg}")
        count("ProfileLinkListFailed", errcode=str(err.errcode))
        logger.warning("member list refused", extra={"runId": run_id, "errcode": err.errcode})
        return
    queue_members(tenant_key, run_id, user_ids, paced=True)
    logger.info("profile link run queued", extra={"runId": run_id, "members": len(user_ids)})


def link_member(tenant: Tenant, run_id: str, user_id: str, *, attempt: int, final: bool) -> None:
    """Write one member's link and record the outcome; raises for the queue to retry a transient failure.

    A refusal no retry can change (60011 no privilege, 60111 unknown userid, 48002 not permitted, any other
    non-transient errcode) marks the member failed and completes the message.
    """
    try:
        url, title = link_url(tenant), link_title(tenant)
    except PlaceholderBaseUrl as err:
        store.record(tenant.tenant_key, run_id, user_id, FAILED, attempts=attempt, message=err.message)
        count("ProfileLinkFailed", errcode="placeholder_base_url")
        return
    # A redelivered message finds the link it wrote last time already there: what this run wrote stays counted.
    wrote = store.written_in_run(tenant.tenant_key, run_id, user_id)

    def note_write() -> None:
        nonlocal wrote
        store.mark_writing(tenant.tenant_key, run_id, user_id, attempts=attempt)
        wrote = True

    try:
        written = write_member(client_for_tenant(tenant, wait_for_permits=False), user_id, url, title, note_write)
    except WeComApiError as err:
        if err.transient or err.token_invalid:
            _retry_later(tenant.tenant_key, run_id, user_id, err, attempt, final, written=wrote)
        store.record(tenant.tenant_key, run_id, user_id, FAILED, attempts=attempt, errcode=err.errcode,
                     message=err.errmsg, written=wrote)
        count("ProfileLinkFailed", errcode=str(err.errcode))
        return
    except (WeComUnavailable, RateLimited) as err:
        _retry_later(tenant.tenant_key, run_id, user_id, err, attempt, final, written=wrote)
    store.record(tenant.tenant_key, run_id, user_id, LINKED, attempts=attempt, url=url, written=written or wrote)


def _retry_later(tenant_key: str, run_id: str, user_id: str, err: Exception, attempt: int, final: bool, *,
                 written: bool) -> NoReturn:
    """Record the member pending (failed at the last attempt) and hand the message back for later.

    The client's permit ran out → after the limiter's window. WeCom's 45009 → a minute or more, growing: WeCom blocks
    the API for 60 s, or an hour after the hourly limit. Anything else (busy, a gateway, a timeout) → re-raised for the
    queue's own jittered backoff.
    """
    errcode = err.errcode if isinstance(err, WeComApiError) else None
    if final or not isinstance(err, RateLimited):  # a spent permit is no news about the member: no write for it
        message = err.errmsg if isinstance(err, WeComApiError) else str(err)
        store.record(tenant_key, run_id, user_id, FAILED if final else PENDING, attempts=attempt, errcode=errcode,
                     message=message, written=written)
    if final:
        count("ProfileLinkFailed", errcode=str(errcode if errcode is not None else type(err).__name__))
    if isinstance(err, RateLimited):
        raise RetryLater(_rate_limited_delay(err), "rate_limited") from None
    if isinstance(err, WeComApiError) and err.frequency_limited:
        ceiling = min(MAX_DELAY_SECONDS, 60 * 2 ** (attempt - 1))
        raise RetryLater(int(random.uniform(ceiling, min(MAX_DELAY_SECONDS, ceiling * 1.5))), "wecom_45009") from None
    raise err


def _rate_limited_delay(err: RateLimited) -> int:
    """After the limiter's window, spread a little so the held-back messages do not all return in the same second."""
    return math.ceil(err.retry_after) + random.randint(0, RATE_LIMIT_JITTER)
