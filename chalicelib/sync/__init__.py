"""The scheduled reconciliation of a tenant's WeCom customers and upstream/downstream (上下游) organisations.

Callbacks keep the directory current; this run repairs what they missed, onboards a tenant's existing customers and
brings in the chains. It must be complete and incremental for corps of any size, so:

- **Streamed.** Customers come member by member from externalcontact/batch/get_by_user (≤ 100 follow users per
  request, 100 pairs per page, every cursor followed) and are applied a page at a time: one BatchGet, writes only for
  what changed. Nothing proportional to the corp is held in memory.
- **Removals without stamping every contact.** A customer WeCom stopped returning has to be found without a "seen"
  write per customer per run (a second run with nothing changed must write nothing). The follow index
  (`customer-follows`, one key per member-customer pair, in member order) makes that a comparison of counts: after a
  batch of members, one Query over the batch's key range counts the relations stored per member; a member with more
  relations than pairs seen lost customers, and only then is asked for its current list (externalcontact/list, one
  call) to find which. Relations of members that are no longer follow users lie in the same key range and go too.
  Contacts left without a member are marked inactive, with a timestamp, never deleted, once every member has been
  seen (a customer moving to a member of a later batch must not flicker); members' own WeChat accounts are skipped.
- **Resumable.** Progress — the last member of the finished batches, the members of the batch in flight and how many
  of its pairs are done, the counters — is checkpointed on the run's record (a conditional write with a sequence
  number). Before the Lambda's time runs out, or when WeCom asks us to slow down (45009, -1, the client-side rate
  limit), the run saves its checkpoint and continues in a follow-up SQS message (delayed by the back-off). A crash
  resumes from the last checkpoint; every write is an idempotent upsert, so repeating a page never duplicates.
- **One run per tenant at a time.** A lease in DynamoDB (see `store/sync_runs.py`). A request that finds another run
  going is noted on the lease and served by one follow-up run when the current one ends; a scheduled request is
  simply dropped, as the run in progress is the same reconciliation.

The client does not expose WeCom's page cursor, so the batch in flight is resumed by re-reading it and skipping the
pairs already applied (WeCom's cursors and the simulator's resume by key, so the order is stable); a page-level client
API would let the checkpoint hold the cursor instead.
"""
from __future__ import annotations

import json
import math
import secrets as random
import time
import uuid
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, TypeVar

from chalicelib.directory import customers
from chalicelib.core.heartbeat import Heartbeat
from chalicelib.core.errors import Conflict, PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import count, logger
from chalicelib.store import contacts, organisations, queues, sync_runs
from chalicelib.store import tenants as tenant_store
from chalicelib.store.organisations import NodeSpec, NodeWriter
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.client import BATCH_USERS, WeComClient
from chalicelib.wecom.errors import RateLimited, WeComApiError, WeComUnavailable
from chalicelib.tenants.wecom_clients import client_for_tenant

T = TypeVar("T")

CUSTOMERS, CHAINS, DONE = "customers", "chains", "done"
PAGE = 100  # pairs applied per step: batch/get_by_user's page
RUN_LEASE_SECONDS = 3600  # how long a run keeps the tenant between invocations before another may take over
SAFETY_MARGIN_SECONDS = 90  # stop taking new pages this long before the Lambda's time limit
CHECKPOINT_EVERY_SECONDS = 30  # bounds the work a crash repeats
RATE_LIMIT_RETRY_SECONDS = 60  # WeCom blocks an API for a minute after its minute limit (45009, 45033)
BUSY_RETRY_SECONDS = 10  # WeCom busy (-1), unreachable
MAX_DEFERRALS = 30  # back-offs one run may take before it gives up
MAX_ERRORS_KEPT = 20
MAX_SQS_DELAY = 900
UNKNOWN_USERID = 60111
RATE_LIMIT_ERRCODES = frozenset({45009, 45033})


# --- requests ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """What a run covers: the customers and every chain (a full run), or some chains only (a change_chain event)."""

    customers: bool = True
    chains: tuple[str, ...] | None = None  # None: every chain, and chains WeCom no longer lists are retired

    @property
    def full(self) -> bool:
        return self.customers and self.chains is None

    def to_dict(self) -> dict:
        return {"customers": self.customers, "chains": None if self.chains is None else list(self.chains)}

    @classmethod
    def from_dict(cls, value: dict) -> "Scope":
        chains = value.get("chains")
        return cls(bool(value.get("customers", True)), None if chains is None else tuple(str(c) for c in chains))


FULL = Scope()


def new_run_id() -> str:
    """Time first, so run records sort by when they were requested."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{random.token_hex(3)}"


def request_body(tenant_key: str, run_id: str, trigger: str, scope: Scope) -> dict:
    return {"tenantKey": tenant_key, "runId": run_id, "trigger": trigger, "scope": scope.to_dict()}


def queue_run(tenant: Tenant, trigger: str, scope: Scope = FULL) -> str:
    """Queue a run for one tenant now; returns its id (the run's record appears when its first invocation starts)."""
    run_id = new_run_id()
    queues.send(queues.SYNC.logical_name, request_body(tenant.tenant_key, run_id, trigger, scope))
    logger.info("sync queued", extra={"runId": run_id, "trigger": trigger, "scope": scope.to_dict()})
    return run_id


def start_admin_run(tenant: Tenant) -> str:
    """The admin's 同步: a full run whose id is the run that does the work, listed (`running`) from now on. The run
    reserves the tenant before its message is sent; while another run holds it, 409 `sync_in_progress` names that
    run instead of queuing a request that would only be folded into a follow-up run with an id of its own."""
    run_id = new_run_id()
    at = time.time()
    reserved = sync_runs.reserve(tenant.tenant_key, run_id, at, at + RUN_LEASE_SECONDS)
    if not reserved.acquired:
        named = f" ({reserved.holder})" if reserved.holder else ""
        raise Conflict(f"a sync run{named} is in progress for this team; follow it in the latest runs and start "
                       "another when it has finished", code="sync_in_progress")
    if reserved.taken_over:
        sync_runs.abandon(tenant.tenant_key, reserved.taken_over, f"its lease expired; run {run_id} took over")
    sync_runs.start(tenant.tenant_key, run_id, "admin", FULL.to_dict(), Checkpoint().to_json())
    try:
        queues.send(queues.SYNC.logical_name, request_body(tenant.tenant_key, run_id, "admin", FULL))
    except Exception:
        sync_runs.abandon(tenant.tenant_key, run_id, "its message could not be queued")
        sync_runs.cancel_reservation(tenant.tenant_key, run_id)
        raise
    logger.info("sync queued", extra={"runId": run_id, "trigger": "admin", "scope": FULL.to_dict()})
    return run_id


def request_sync(tenant: Tenant, trigger: str) -> None:
    """Queue a full run (customers and every chain) for one tenant: create_auth, the admin's 同步."""
    queue_run(tenant, trigger)


def request_chain_sync(tenant: Tenant, chain_id: str) -> None:
    """Queue a re-sync of one chain (a change_chain callback)."""
    queue_run(tenant, "change_chain", Scope(customers=False, chains=(chain_id,)))


def schedule_all() -> int:
    """The schedule's fan-out: one message per enabled tenant with auto-sync on, so one tenant's size or failure
    never delays another. Tenants are listed with the tenants table's `byMode` index (a Query per mode)."""
    bodies = [
        request_body(tenant.tenant_key, new_run_id(), "schedule", FULL)
        for tenant in tenant_store.all_tenants()
        if tenant.enabled and tenant.settings.auto_sync_customers
    ]
    queues.send_batch(queues.SYNC.logical_name, bodies)
    logger.info("sync runs scheduled", extra={"tenants": len(bodies)})
    return len(bodies)


# --- what the admin reads -------------------------------------------------------------------------------------------
def describe_run(item: sync_runs.SyncItem) -> dict:
    checkpoint = Checkpoint.from_json(item.checkpoint)
    return {
        "runId": item.run_id,
        "trigger": item.trigger,
        "scope": json.loads(item.scope or "{}"),
        "status": item.status,
        "startedAt": item.started_at.isoformat() if item.started_at else None,
        "finishedAt": item.finished_at.isoformat() if item.finished_at else None,
        "updatedAt": item.updated_at.isoformat() if item.updated_at else None,
        "invocations": int(item.invocations or 0),
        "phase": checkpoint.phase,
        "counts": checkpoint.counts_view(),
        "errors": [dict(error) for error in item.errors or []],
    }


def latest_runs(tenant: Tenant, limit: int) -> list[dict]:
    return [describe_run(item) for item in sync_runs.latest(tenant.tenant_key, limit)]


# --- member order and batches (pure) -------------------------------------------------------------------------------
def member_order(userid: str) -> str:
    """A member's place in the follow index: its relations are the keys `<userid>#…`, so members sort by `<userid>#`.
    For WeCom's userid characters (letters, digits, `_-.@`, all after `#`) that is the userids' own order; sorting by
    the key prefix keeps batches and key ranges consistent whatever the characters (any but `#`)."""
    return f"{userid}#"


def next_batch(follow_users: list[str], after: str | None, size: int = BATCH_USERS) -> tuple[list[str], bool]:
    """The next ≤ `size` members after `after` in member order (`follow_users` sorted by `member_order`), and
    whether no member follows them."""
    start = 0 if after is None else bisect_right([member_order(u) for u in follow_users], member_order(after))
    batch = follow_users[start : start + size]
    return batch, start + size >= len(follow_users)


def relation_bounds(after: str | None, last: str | None, is_last: bool) -> tuple[str | None, str | None]:
    """The follow-index key range a batch owns: after the previous batch's last member, up to and including its own
    last member's keys (`<u>#…` < `<u>$` < any later member's keys); the final batch owns everything after it.
    Together the batches of a run tile the whole index, so relations of members who are no longer follow users
    fall in some batch's range."""
    low = f"{after}$" if after is not None else None
    high = None if is_last or last is None else f"{last}$"
    return low, high


def pages(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- 上下游 nodes (pure) ------------------------------------------------------------------------------------------
def chain_dimension(tenant: Tenant) -> NodeSpec:
    return NodeSpec(
        organisations.CHAIN_DIMENSION_ID,
        organisations.DIMENSION,
        tenant.settings.chain_dimension_name,
        None,
        organisations.CHAIN_DIMENSION_ID,
        organisations.SOURCE_WECOM_CHAIN,
    )


def chain_nodes(chain: dict, groups: list[dict]) -> list[NodeSpec]:
    """A chain and its groups, each group under its parent group (or the chain for top-level groups)."""
    chain_id = chain["chain_id"]
    chain_node = organisations.chain_node_id(chain_id)
    group_ids = {int(group["groupid"]) for group in groups}
    specs = [
        NodeSpec(chain_node, organisations.GROUP, chain.get("chain_name") or chain_id, organisations.CHAIN_DIMENSION_ID,
                 organisations.CHAIN_DIMENSION_ID, organisations.SOURCE_WECOM_CHAIN, {"chain_id": chain_id})
    ]
    for group in groups:
        parent = int(group.get("parentid") or 0)
        specs.append(NodeSpec(
            organisations.chain_group_id(chain_id, int(group["groupid"])),
            organisations.GROUP,
            group.get("group_name") or str(group["groupid"]),
            organisations.chain_group_id(chain_id, parent) if parent in group_ids else chain_node,
            organisations.CHAIN_DIMENSION_ID,
            organisations.SOURCE_WECOM_CHAIN,
            {"chain_id": chain_id, "groupid": int(group["groupid"]), "order": int(group.get("order") or 0)},
        ))
    return specs


def chain_corp_node(chain_id: str, corp: dict, group_ids: set[int]) -> NodeSpec:
    """A corp of the chain as an organisation under its group; a corp invited but not joined is marked pending."""
    pending = not corp["is_joined"] if "is_joined" in corp else not corp.get("corpid")
    corpid = corp.get("corpid") or corp.get("pending_corpid") or ""
    groupid = int(corp.get("groupid") or 0)
    wecom = {"chain_id": chain_id, "groupid": groupid, "pending_corpid" if pending else "corpid": corpid}
    wecom.update({key: corp[key] for key in ("custom_id", "invite_userid") if corp.get(key)})
    in_group = groupid in group_ids
    return NodeSpec(
        organisations.chain_corp_id(chain_id, corpid, pending),
        organisations.ORGANISATION,
        corp.get("corp_name") or corpid,
        organisations.chain_group_id(chain_id, groupid) if in_group else organisations.chain_node_id(chain_id),
        organisations.CHAIN_DIMENSION_ID,
        organisations.SOURCE_WECOM_CHAIN,
        wecom,
        pending,
    )


# --- the checkpoint ------------------------------------------------------------------------------------------------
CUSTOMER_COUNTS = ("added", "updated", "unchanged", "inactivated", "skipped_as_member")
ORGANISATION_COUNTS = ("added", "updated", "unchanged", "inactivated")


@dataclass
class Checkpoint:
    """Where a run stands; stored as JSON on the run's record at every checkpoint."""

    phase: str = CUSTOMERS
    after: str | None = None  # the last member of the batches done
    batch: list[str] | None = None  # the batch in flight
    last_batch: bool = False
    skip: int = 0  # pairs of the batch in flight already applied
    applied: bool = False  # the batch in flight is applied; only its clean-up is left
    seen: dict[str, int] = field(default_factory=dict)  # per member of the batch in flight
    skipped_members: list[str] = field(default_factory=list)  # customers who are team members (bounded by the team)
    chains_done: list[str] = field(default_factory=list)
    customers: dict[str, int] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)
    failed_phases: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    deferrals: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "Checkpoint":
        return cls(**json.loads(text)) if text else cls()

    def add_customers(self, counts: Counter) -> None:
        for key, value in counts.items():
            self.customers[key] = self.customers.get(key, 0) + value

    def add_organisations(self, counts: Counter | dict) -> None:
        for key, value in counts.items():
            self.organisations[key] = self.organisations.get(key, 0) + value

    def counts_view(self) -> dict:
        customer_counts = {key: int(self.customers.get(key, 0)) for key in CUSTOMER_COUNTS}
        customer_counts["skipped_as_member"] = len(self.skipped_members)
        return {
            "customers": customer_counts,
            "organisations": {key: int(self.organisations.get(key, 0)) for key in ORGANISATION_COUNTS},
        }

    def record_error(self, phase: str, code: str, message: str) -> None:
        self.errors = (self.errors + [{"phase": phase, "code": code, "message": message[:500],
                                       "at": datetime.now(timezone.utc).isoformat()}])[-MAX_ERRORS_KEPT:]


# --- running --------------------------------------------------------------------------------------------------------
class Deadline:
    """The invocation's remaining time, from the Lambda context."""

    def __init__(self, remaining_ms: Callable[[], int], margin_seconds: float = SAFETY_MARGIN_SECONDS) -> None:
        self._remaining_ms = remaining_ms
        self.margin_seconds = margin_seconds

    @classmethod
    def of_context(cls, context: Any) -> "Deadline":
        """Stop `SAFETY_MARGIN_SECONDS` before the limit, or with a quarter of the budget left when the whole
        budget is short (a step — a page, a batch's clean-up — must fit in what is left)."""
        budget = context.get_remaining_time_in_millis() / 1000
        return cls(context.get_remaining_time_in_millis, min(SAFETY_MARGIN_SECONDS, budget / 4))

    def seconds_left(self) -> float:
        return self._remaining_ms() / 1000

    def expired(self) -> bool:
        """True once the time left is within the safety margin: stop and continue in a new invocation."""
        return self.seconds_left() <= self.margin_seconds


class _Yield(Exception):
    """Out of time: checkpoint and continue in a follow-up message."""


class _Defer(Exception):
    """WeCom asked us to slow down or could not be reached: checkpoint and continue after `seconds`."""

    def __init__(self, seconds: int, code: str, message: str) -> None:
        super().__init__(message)
        self.seconds = seconds
        self.code = code
        self.message = message


class _PhaseFailed(Exception):
    """WeCom refused for good (no permission, bad secret): the phase stops, the run goes on and ends partial."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _RunLost(Exception):
    """The run's record moved on without this invocation (another one saved a newer checkpoint): stop quietly."""


def process(message: dict, deadline: Deadline) -> None:
    """Work on one queued sync message (a new run or the continuation of one) until done or out of time."""
    tenant_key, run_id = message.get("tenantKey"), message.get("runId")
    if not tenant_key or not run_id:
        raise PermanentError("malformed_message", "tenantKey and runId are required")
    trigger = str(message.get("trigger") or "unknown")
    scope = Scope.from_dict(message.get("scope") or {})
    try:
        tenant = tenant_store.get(tenant_key)
    except TenantNotFound as err:
        raise PermanentError("tenant_not_found", err.message) from None
    if not tenant.enabled:
        logger.info("sync skipped: tenant disabled", extra={"runId": run_id})
        return
    invocation = uuid.uuid4().hex
    at = time.time()
    hold = queues.SYNC.hold_seconds or RUN_LEASE_SECONDS
    lease = sync_runs.acquire(tenant_key, run_id, invocation, at, at + hold, at + RUN_LEASE_SECONDS)
    if not lease.acquired:
        _not_acquired(tenant_key, run_id, trigger, scope, lease.holder, at)
        return
    if lease.taken_over:
        sync_runs.abandon(tenant_key, lease.taken_over, f"its lease expired; run {run_id} took over")
    # The invocation lease is as short as the message's hold and renewed with it: when this Lambda dies, the
    # redelivered message finds the lease lapsed and resumes the run.
    with Heartbeat(hold / 3, lambda: sync_runs.renew_invocation(tenant_key, run_id, invocation, time.time() + hold)):
        _Run(tenant, run_id, trigger, scope, invocation, deadline).execute()


def _not_acquired(tenant_key: str, run_id: str, trigger: str, scope: Scope, holder: str | None, at: float) -> None:
    if holder == run_id:
        logger.info("sync message dropped: an invocation of this run is working", extra={"runId": run_id})
        return
    if holder is None:
        raise RetryLater(BUSY_RETRY_SECONDS, "sync_lease_contended")
    if trigger == "schedule":
        logger.info("scheduled sync dropped: a run is in progress", extra={"runId": run_id, "holder": holder})
        return
    if sync_runs.request_rerun(tenant_key, run_id, scope.full, scope.chains or (), at):
        logger.info("sync request noted for after the run in progress", extra={"runId": run_id, "holder": holder})
        return
    raise RetryLater(BUSY_RETRY_SECONDS, "sync_lease_changed")


class _Run:
    """One invocation's work on a run."""

    def __init__(self, tenant: Tenant, run_id: str, trigger: str, scope: Scope, invocation: str,
                 deadline: Deadline) -> None:
        self.tenant = tenant
        self.key = tenant.tenant_key
        self.run_id = run_id
        self.trigger = trigger
        self.scope = scope
        self.invocation = invocation
        self.deadline = deadline
        self.nodes = NodeWriter(self.key)
        self.seq = 0
        self.cp = Checkpoint()
        self.saved_at = time.monotonic()
        self._client: WeComClient | None = None
        self._unionids: frozenset[str] | None = None

    @property
    def client(self) -> WeComClient:
        """Non-blocking on the shared rate limiter: a spent window becomes a delayed follow-up message, not an idle
        Lambda."""
        if self._client is None:
            self._client = client_for_tenant(self.tenant, wait_for_permits=False)
        return self._client

    @property
    def unionids(self) -> frozenset[str]:
        if self._unionids is None:
            self._unionids = customers.member_unionids(self.key)
        return self._unionids

    def execute(self) -> None:
        run = sync_runs.begin_invocation(self.key, self.run_id)
        if run is None and sync_runs.get_run(self.key, self.run_id) is None:  # the run's first invocation
            sync_runs.start(self.key, self.run_id, self.trigger, self.scope.to_dict(), Checkpoint().to_json())
            run = sync_runs.begin_invocation(self.key, self.run_id)
        if run is None:  # a late duplicate of a run that has ended
            self._release()
            return
        self.seq = int(run.seq or 0)
        self.cp = Checkpoint.from_json(run.checkpoint)
        try:
            try:
                self._work()
            except _Yield:
                self._pause(0)
            except _Defer as deferral:
                self._defer(deferral)
        except _RunLost:
            logger.warning("sync invocation stopped: the run moved on without it", extra={"runId": self.run_id})
        finally:
            sync_runs.release_invocation(self.key, self.run_id, self.invocation, time.time() + RUN_LEASE_SECONDS)

    def _work(self) -> None:
        if self.cp.phase == CUSTOMERS:
            if self.scope.customers:
                self._phase(CUSTOMERS, self._customers)
            self.cp.phase = CHAINS
            self._save()
        if self.cp.phase == CHAINS:
            self._phase(CHAINS, self._chains)
            self.cp.phase = DONE
        self._finish(sync_runs.PARTIAL if self.cp.failed_phases else sync_runs.SUCCEEDED)

    def _phase(self, name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except _PhaseFailed as failure:
            logger.warning("sync phase failed", extra={"phase": name, "code": failure.code})
            self.cp.failed_phases.append(name)
            self.cp.record_error(name, failure.code, failure.message)

    @contextmanager
    def _calling_wecom(self) -> Iterator[None]:
        """WeCom's failures as the run treats them: slow down and resume (limits, busy, unreachable) or give up on the
        phase (anything else, after the client's own retries and token refresh)."""
        try:
            yield
        except RateLimited as err:
            raise _Defer(math.ceil(err.retry_after), "rate_limited", str(err)) from None
        except WeComApiError as err:
            if err.errcode in RATE_LIMIT_ERRCODES:
                raise _Defer(RATE_LIMIT_RETRY_SECONDS, f"wecom_{err.errcode}", str(err)) from None
            if err.transient:
                raise _Defer(BUSY_RETRY_SECONDS, f"wecom_{err.errcode}", str(err)) from None
            raise _PhaseFailed(f"wecom_{err.errcode}", str(err)) from None
        except WeComUnavailable as err:
            raise _Defer(BUSY_RETRY_SECONDS, "wecom_unavailable", str(err)) from None

    def _tick(self) -> None:
        """Between two steps: out of time → yield; checkpoint now and then so a crash repeats little."""
        if self.deadline.expired():
            raise _Yield()
        if time.monotonic() - self.saved_at >= CHECKPOINT_EVERY_SECONDS:
            self._save()

    # --- customers ---------------------------------------------------------------------------------------------
    def _customers(self) -> None:
        cp = self.cp
        create = bool(self.tenant.settings.auto_sync_customers)
        self.cp.add_organisations(self.nodes.write([customers.customer_dimension(self.tenant)]))
        follow_users: list[str] | None = None
        while True:
            if cp.batch is None:
                if follow_users is None:
                    with self._calling_wecom():
                        follow_users = sorted(set(self.client.follow_users()), key=member_order)
                cp.batch, cp.last_batch = next_batch(follow_users, cp.after)
                cp.skip, cp.seen, cp.applied = 0, {}, False
            if cp.batch and not cp.applied:
                self._apply_batch(create)
            cp.applied = True
            self._close_batch()
            if cp.batch:
                cp.after = cp.batch[-1]
            done = cp.last_batch
            cp.batch, cp.skip, cp.seen, cp.last_batch, cp.applied = None, 0, {}, False, False
            if done:
                break
            self._tick()
        inactivated, counted_as_updated, active = customers.inactivate_unfollowed(self.tenant, self.run_id)
        cp.add_customers(Counter({"inactivated": inactivated, "updated": -counted_as_updated}))
        cp.customers["unchanged"] = max(0, active - cp.customers.get("added", 0) - cp.customers.get("updated", 0))

    def _apply_batch(self, create: bool) -> None:
        cp = self.cp
        with self._calling_wecom():
            stream = self.client.customers_by_users(cp.batch)
            for page in pages(islice(stream, cp.skip, None), PAGE):
                outcome = customers.apply_page(self.tenant, page, self.run_id, self.unionids, create, self.nodes)
                cp.skip += len(page)
                for userid, seen in outcome.seen.items():
                    cp.seen[userid] = cp.seen.get(userid, 0) + seen
                cp.skipped_members = sorted(set(cp.skipped_members) | outcome.skipped)
                cp.add_customers(outcome.contacts)
                cp.add_organisations(outcome.organisations)
                self._tick()

    def _close_batch(self) -> None:
        """Remove what WeCom no longer returns for the batch's key range: relations of members who stopped being
        follow users, and — for members with more stored relations than pairs seen — the customers they lost."""
        cp = self.cp
        members = set(cp.batch or ())
        low, high = relation_bounds(cp.after, cp.batch[-1] if cp.batch else None, cp.last_batch)
        stored: Counter = Counter()
        for userid, external_userid in contacts.follows_between(self.key, low, high):
            if userid in members:
                stored[userid] += 1
            else:
                self._unfollow(external_userid, userid)
        for userid in cp.batch or ():
            if stored[userid] > cp.seen.get(userid, 0):
                self._resolve(userid)

    def _resolve(self, userid: str) -> None:
        """Which of the member's stored customers WeCom no longer lists (one externalcontact/list call)."""
        with self._calling_wecom():
            try:
                current = set(self.client.list_customers(userid))
            except WeComApiError as err:
                if err.errcode != UNKNOWN_USERID:
                    raise
                current = set()  # the member left meanwhile: none of its customers is followed by it any more
        skipped = set(self.cp.skipped_members)
        for external_userid in contacts.customers_followed_by(self.key, userid):
            if external_userid not in current or external_userid in skipped:
                self._unfollow(external_userid, userid)

    def _unfollow(self, external_userid: str, userid: str) -> None:
        """Remove one relation; out of time afterwards → yield (the clean-up restarts, minus what it removed)."""
        if customers.unfollow(self.tenant, external_userid, userid, self.run_id) == customers.UPDATED:
            self.cp.add_customers(Counter({"updated": 1}))
        if self.deadline.expired():
            raise _Yield()

    # --- 上下游 ----------------------------------------------------------------------------------------------------
    def _chains(self) -> None:
        cp = self.cp
        with self._calling_wecom():
            listed = self.client.chains()
        cp.add_organisations(self.nodes.write([chain_dimension(self.tenant)]))
        listed_ids = [chain["chain_id"] for chain in listed]
        wanted = listed if self.scope.chains is None else [c for c in listed if c["chain_id"] in self.scope.chains]
        for chain in wanted:
            if chain["chain_id"] not in cp.chains_done:
                self._chain(chain)
                cp.chains_done.append(chain["chain_id"])
                self._tick()
        if self.scope.chains is None:
            known = {node_id[len(organisations.CHAINS_PREFIX):]
                     for node_id in organisations.active_ids_with_prefix(self.key, organisations.CHAINS_PREFIX)}
        else:
            known = set(self.scope.chains)
        for chain_id in sorted(known - set(listed_ids)):
            self._retire_chain(chain_id)

    def _chain(self, chain: dict) -> None:
        """A chain, its groups and its corps (joined and pending), and the ones of them WeCom stopped listing.

        A chain is done in one go (its corps are pages of 1,000 nodes, not customers): the deadline is looked at
        between chains, so every invocation finishes at least one."""
        chain_id = chain["chain_id"]
        with self._calling_wecom():
            groups = self.client.chain_groups(chain_id)
        specs = chain_nodes(chain, groups)
        self.cp.add_organisations(self.nodes.write(specs))
        current = {spec.node_id for spec in specs}
        group_ids = {int(group["groupid"]) for group in groups}
        with self._calling_wecom():
            for page in pages(self.client.chain_corps(chain_id, need_pending=True), PAGE):
                corp_specs = [chain_corp_node(chain_id, corp, group_ids) for corp in page]
                current.update(spec.node_id for spec in corp_specs)
                self.cp.add_organisations(self.nodes.write(corp_specs))
        for prefix in (organisations.chain_groups_prefix(chain_id), organisations.chain_corps_prefix(chain_id)):
            for node_id in organisations.active_ids_with_prefix(self.key, prefix):
                if node_id not in current and organisations.inactivate(self.key, node_id):
                    self.cp.add_organisations({"inactivated": 1})

    def _retire_chain(self, chain_id: str) -> None:
        """WeCom no longer lists the chain: it, its groups and its corps become inactive."""
        retired = [organisations.chain_node_id(chain_id)] + [
            node_id
            for prefix in (organisations.chain_groups_prefix(chain_id), organisations.chain_corps_prefix(chain_id))
            for node_id in organisations.active_ids_with_prefix(self.key, prefix)
        ]
        self.cp.add_organisations({"inactivated": sum(organisations.inactivate(self.key, n) for n in retired)})

    # --- bookkeeping -------------------------------------------------------------------------------------------
    def _save(self) -> None:
        cp = self.cp
        if not sync_runs.save_checkpoint(self.key, self.run_id, self.seq, cp.to_json(), cp.counts_view(), cp.errors):
            raise _RunLost()
        self.seq += 1
        self.saved_at = time.monotonic()

    def _pause(self, delay: int) -> None:
        """Checkpoint, let go of the invocation (not of the run), and continue in a follow-up message.

        The invocation lease is released before the message is sent: the follow-up may start at once elsewhere.
        """
        self._save()
        sync_runs.release_invocation(self.key, self.run_id, self.invocation, time.time() + delay + RUN_LEASE_SECONDS)
        queues.send(queues.SYNC.logical_name, request_body(self.key, self.run_id, self.trigger, self.scope),
                    delay_seconds=min(max(delay, 0), MAX_SQS_DELAY))
        logger.info("sync continues in a follow-up message",
                    extra={"runId": self.run_id, "phase": self.cp.phase, "delay": delay})

    def _defer(self, deferral: _Defer) -> None:
        self.cp.deferrals += 1
        self.cp.record_error(self.cp.phase, deferral.code, f"backed off {deferral.seconds}s: {deferral.message}")
        count("SyncBackOff", code=deferral.code)
        if self.cp.deferrals > MAX_DEFERRALS:
            self.cp.failed_phases.append(self.cp.phase)
            self.cp.record_error(self.cp.phase, "too_many_back_offs", f"gave up after {MAX_DEFERRALS} back-offs")
            self._finish(sync_runs.FAILED)
            return
        self._pause(deferral.seconds)

    def _finish(self, status: str) -> None:
        cp = self.cp
        if not sync_runs.finish(self.key, self.run_id, self.seq, status, cp.to_json(), cp.counts_view(), cp.errors):
            raise _RunLost()
        self.seq += 1
        count("SyncRunFinished", status=status)
        logger.info("sync finished", extra={"runId": self.run_id, "status": status, "counts": cp.counts_view()})
        self._release()

    def _release(self) -> None:
        """Free the tenant; requests noted while the run held it become one follow-up run."""
        pending = sync_runs.release(self.key, self.run_id, self.invocation)
        if pending is None or not (pending.full or pending.chains):
            return
        scope = FULL if pending.full else Scope(customers=False, chains=pending.chains)
        queue_run(self.tenant, "requested_during_run", scope)
