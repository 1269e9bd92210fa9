"""Starting a run — one member (a create_user callback), the whole corp (the admin, create_auth) or every tenant
(the daily schedule) — and queueing its members, paced to the per-corp rate limit."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from secrets import token_hex
from typing import Sequence

from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.observability import count, logger
from chalicelib.profile_links.link import PlaceholderBaseUrl, can_write, link_url
from chalicelib.store import profile_links as store
from chalicelib.store import queues
from chalicelib.store import tenants as tenant_store
from chalicelib.store.queues import PROFILE_LINKS
from chalicelib.store.tenants import Tenant
from chalicelib.tenants.wecom_clients import rate_limiter

MEMBER = "member"
LIST = "list"

PACE_SHARE = 0.9  # queue a run at 90% of the rate limit: the limit is shared with the corp's other work
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds maximum
SEND_CHUNK = 100  # members per task of the parallel fan-out (ten SendMessageBatch calls)
SEND_THREADS = 8
COUNT_EVERY = 10  # chunks between two updates of a run's queued figure while it is being listed


class ManualLinkOnly(Conflict):
    code = "manual_link_only"

    def __init__(self, tenant_key: str) -> None:
        super().__init__(
            f"tenant {tenant_key!r} has not authorised Yunqiao to write member profiles: paste the manual link instead"
        )


def new_run_id() -> str:
    """Sortable by start time (recent runs are listed from the table in key order), unique by its random tail."""
    return f"{clock.utcnow():%Y%m%dT%H%M%SZ}-{token_hex(4)}"


def request_members(tenant: Tenant, userids: list[str], trigger: str) -> None:
    """Queue these members' writes at once (a create_user callback: the member who just joined), as a small run."""
    unique = list(dict.fromkeys(user_id for user_id in userids if user_id))
    if not unique:
        return
    if not can_write(tenant):
        logger.info("profile link left to the admin", extra={"trigger": trigger, "members": len(unique)})
        return
    try:
        link_url(tenant)
    except PlaceholderBaseUrl as err:
        logger.error("profile links not written", extra={"trigger": trigger, "reason": err.message})
        return
    run_id = new_run_id()
    store.create_run(tenant.tenant_key, run_id, trigger)
    queue_members(tenant.tenant_key, run_id, unique, paced=False)


def start_bulk_run(tenant: Tenant, trigger: str) -> str:
    """Start writing the link for every member of the tenant's corp; returns the run id to follow its progress.

    Only the run record and one message are written here: listing the members (user/list_id) and queueing them
    happens in the queue's consumer, so this answers at once whoever calls it — an admin's HTTP request, or the
    create_auth processing, whose retry could not redo the single-use auth code exchange.
    """
    if not can_write(tenant):
        raise ManualLinkOnly(tenant.tenant_key)
    run_id = new_run_id()
    store.create_run(tenant.tenant_key, run_id, trigger)
    queues.send(PROFILE_LINKS.logical_name, _list_message(tenant.tenant_key, run_id, trigger))
    count("ProfileLinkRunStarted", trigger=trigger)
    logger.info("profile link run started", extra={"runId": run_id, "trigger": trigger})
    return run_id


def schedule_runs() -> int:
    """The daily reconciliation: one listing message per enabled tenant, so that no tenant's size or failure delays
    another's. Returns how many were queued. A tenant that may not be written for is skipped by the consumer."""
    keys = [tenant.tenant_key for tenant in tenant_store.all_tenants() if tenant.enabled]
    queues.send_batch(PROFILE_LINKS.logical_name, [_list_message(key, new_run_id(), "schedule") for key in keys])
    logger.info("profile link runs scheduled", extra={"tenants": len(keys)})
    return len(keys)


def _list_message(tenant_key: str, run_id: str, trigger: str) -> dict:
    return {"kind": LIST, "tenantKey": tenant_key, "runId": run_id, "trigger": trigger}


def _pacing(members: int) -> list[int]:
    """DelaySeconds per message: the run reaches the queue at the rate the limiter will let the consumer call."""
    per_second = max(1.0, rate_limiter().per_minute * PACE_SHARE / 60)
    return [min(MAX_DELAY_SECONDS, int(index / per_second)) for index in range(members)]


def queue_members(tenant_key: str, run_id: str, user_ids: Sequence[str], *, paced: bool) -> None:
    """Send one message per member, ten per SendMessageBatch call, several calls in parallel."""
    bodies = [{"kind": MEMBER, "tenantKey": tenant_key, "runId": run_id, "userId": user_id} for user_id in user_ids]
    delays = _pacing(len(bodies)) if paced else [0] * len(bodies)
    chunks = [
        (bodies[start : start + SEND_CHUNK], delays[start : start + SEND_CHUNK])
        for start in range(0, len(bodies), SEND_CHUNK)
    ]

    def send(chunk: tuple[list[dict], list[int]]) -> int:
        queues.send_batch(PROFILE_LINKS.logical_name, chunk[0], chunk[1])
        return len(chunk[0])

    sent = 0
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(chunks) or 1)) as pool:
        for done, size in enumerate(pool.map(send, chunks), start=1):
            sent += size
            if done % COUNT_EVERY == 0 and sent < len(bodies):
                store.count_queued(tenant_key, run_id, sent)
    store.finish_listing(tenant_key, run_id, len(bodies))
