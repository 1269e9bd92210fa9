"""One invocation's work on a run: the lease, the customers phase (batches, removals), the 上下游 phase, checkpoints,
back-offs and follow-up messages (see the package's docstring for the design)."""
from __future__ import annotations

import math
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from itertools import islice
from typing import Any, Callable, Iterator

from chalicelib.core import clock
from chalicelib.directory import chain_contacts, customers
from chalicelib.core.errors import Conflict, PermanentError, RetryLater, TenantNotFound
from chalicelib.core.heartbeat import Heartbeat
from chalicelib.core.observability import count, logger
from chalicelib.store import contacts, organisations, queues, sync_runs
from chalicelib.store import tenants as tenant_store
from chalicelib.store.organisations import NodeWriter
from chalicelib.store.tenants import Tenant
from chalicelib.sync.checkpoint import CHAIN_CONTACTS, CHAINS, CUSTOMERS, DONE, Checkpoint
from chalicelib.tenants import corp_info
from chalicelib.sync.planning import chain_corp_node, chain_dimension, chain_nodes, member_order, next_batch, pages, \
    relation_bounds
from chalicelib.sync.triggers import FULL, Scope, new_run_id, queue_run, request_body
from chalicelib.wecom.client import WeComClient
from chalicelib.wecom.errors import RateLimited, WeComApiError, WeComUnavailable
from chalicelib.tenants.wecom_clients import client_for_tenant, downstream_client

PAGE = 100  # pairs applied per step: batch/get_by_user's page
RUN_LEASE_SECONDS = 3600  # how long a run keeps the tenant between invocations before another may take over
SAFETY_MARGIN_SECONDS = 90  # stop taking new pages this long before the Lambda's time limit
CHECKPOINT_EVERY_SECONDS = 30  # bounds the work a crash repeats
RATE_LIMIT_RETRY_SECONDS = 60  # WeCom blocks an API for a minute after its minute limit (45009, 45033)
BUSY_RETRY_SECONDS = 10  # WeCom busy (-1), unreachable
MAX_DEFERRALS = 30  # back-offs one run may take before it gives up
MAX_SQS_DELAY = 900
CORP_NAME_UNKNOWN = "corp_name_unknown"


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
    at = clock.now()
    hold = queues.SYNC.hold_seconds or RUN_LEASE_SECONDS
    lease = sync_runs.acquire(tenant_key, run_id, invocation, at, at + hold, at + RUN_LEASE_SECONDS)
    if not lease.acquired:
        _not_acquired(tenant_key, run_id, trigger, scope, lease.holder, at)
        return
    if lease.taken_over:
        sync_runs.abandon(tenant_key, lease.taken_over, f"its lease expired; run {run_id} took over")
    # The invocation lease is as short as the message's hold and renewed with it: when this Lambda dies, the
    # redelivered message finds the lease lapsed and resumes the run.
    with Heartbeat(hold / 3, lambda: sync_runs.renew_invocation(tenant_key, run_id, invocation, clock.now() + hold)):
        _Run(tenant, run_id, trigger, scope, invocation, deadline).execute()


def start_admin_run(tenant: Tenant) -> str:
    """The admin's 同步: a full run whose id is the run that does the work, listed (`running`) from now on. The run
    reserves the tenant before its message is sent; while another run holds it, 409 `sync_in_progress` names that
    run instead of queuing a request that would only be folded into a follow-up run with an id of its own."""
    run_id = new_run_id()
    at = clock.now()
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


def _not_acquired(tenant_key: str, run_id: str, trigger: str, scope: Scope, holder: str | None, at: float) -> None:
    if holder == run_id:
        logger.info("sync message dropped: an invocation of this run is working", extra={"runId": run_id})
        return
    if holder is None:
        raise RetryLater(BUSY_RETRY_SECONDS, "sync_lease_contended")
    if trigger == "schedule":
        logger.info("scheduled sync dropped: a run is in progress", extra={"runId": run_id, "holder": holder})
        return
    # Every chain without the customers (a share change) is noted as a full run: the lease keeps no such scope.
    if sync_runs.request_rerun(tenant_key, run_id, scope.full or scope.chains is None, scope.chains or (), at):
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
        self._signals: customers.MemberSignals | None = None

    @property
    def client(self) -> WeComClient:
        """Non-blocking on the shared rate limiter: a spent window becomes a delayed follow-up message, not an idle
        Lambda."""
        if self._client is None:
            self._client = client_for_tenant(self.tenant, wait_for_permits=False)
        return self._client

    @property
    def member_signals(self) -> customers.MemberSignals:
        """Loaded once per invocation (the members' unionids) and remembering WeCom's answers about remark mobiles."""
        if self._signals is None:
            self._signals = customers.MemberSignals.for_sync(self.tenant, self.client)
        return self._signals

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
            sync_runs.release_invocation(self.key, self.run_id, self.invocation, clock.now() + RUN_LEASE_SECONDS)

    def _work(self) -> None:
        if self.cp.phase == CUSTOMERS:
            if self.scope.customers:
                self._phase(CUSTOMERS, self._customers)
            self.cp.phase = CHAINS
            self._save()
        if self.cp.phase == CHAINS:
            self._phase(CHAINS, self._chains)
            self.cp.phase = CHAIN_CONTACTS
            self._save()
        if self.cp.phase == CHAIN_CONTACTS:
            self._phase(CHAIN_CONTACTS, self._chain_contacts)
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
            if err.rate_limited:
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
        if not corp_info.names(self.tenant):
            with self._calling_wecom():
                follow_users = sorted(set(self.client.follow_users()), key=member_order)
                corp_info.ensure_names(self.tenant, self.client, follow_users)
            if not corp_info.names(self.tenant) and not any(
                    error.get("code") == CORP_NAME_UNKNOWN for error in cp.errors):
                cp.record_error(CUSTOMERS, CORP_NAME_UNKNOWN, "the team's own corp name is not known: customers who "
                                "are WeCom users are not synced until it is (give it at onboarding)")
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
        self._look_again_at_held()
        inactivated, counted_as_updated, active = customers.inactivate_unfollowed(self.tenant, self.run_id)
        cp.add_customers(Counter({"inactivated": inactivated, "updated": -counted_as_updated}))
        cp.customers["unchanged"] = max(0, active - cp.customers.get("added", 0) - cp.customers.get("updated", 0))

    def _apply_batch(self, create: bool) -> None:
        cp = self.cp
        with self._calling_wecom():
            stream = self.client.customers_by_users(cp.batch)
            for page in pages(islice(stream, cp.skip, None), PAGE):
                outcome = customers.apply_page(self.tenant, page, self.run_id, self.member_signals, create,
                                               self.nodes)
                cp.skip += len(page)
                for userid, seen in outcome.seen.items():
                    cp.seen[userid] = cp.seen.get(userid, 0) + seen
                cp.skipped_members = sorted(set(cp.skipped_members) | outcome.skipped)
                cp.held_members = sorted(set(cp.held_members) | outcome.held)
                cp.add_customers(outcome.contacts)
                cp.add_organisations(outcome.organisations)
                self._tick()

    def _look_again_at_held(self) -> None:
        """Customers set aside as members before whose pages this run showed no signal (a remark mobile sits on one
        member's follow entry only, and that member may have dropped it): each is looked up whole, with every
        follow user's entry, and either set aside again or written as the customer it now is."""
        cp = self.cp
        create = bool(self.tenant.settings.auto_sync_customers)
        for external_userid in list(cp.held_members):
            if external_userid not in cp.skipped_members:
                with self._calling_wecom():
                    outcome = customers.refresh(self.tenant, self.client, external_userid, create)
                if outcome == customers.SKIPPED_MEMBER:
                    cp.skipped_members = sorted(set(cp.skipped_members) | {external_userid})
                elif outcome in (customers.ADDED, customers.UPDATED):
                    cp.add_customers(Counter({outcome: 1}))
            cp.held_members.remove(external_userid)
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
                if not err.unknown_user:
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

    # --- 上下游 contacts ----------------------------------------------------------------------------------------------
    def _chain_contacts(self) -> None:
        """The members of every downstream corp the app is shared with (of the run's chains' corps, for a run of
        some chains), corp by corp in corpid order; a corp WeCom refuses is reported and skipped, the others go on.
        A full run also retires the contacts of corps no longer shared, and the corps' own organisations no longer
        needed."""
        cp = self.cp
        if not self.tenant.agent_id:
            raise _PhaseFailed("no_agent", "the team has no app: 上下游 members are read through the app shared with "
                                            "downstream corps")
        with self._calling_wecom():
            listed = sorted(self.client.shared_corps(), key=lambda corp: corp["corpid"])
        cp.add_organisations(self.nodes.write([chain_dimension(self.tenant)]))
        found = chain_contacts.homes(self.key)
        wanted = listed
        if self.scope.chains is not None:
            in_scope = {corpid for chain_id in self.scope.chains for corpid in self._chain_corpids(chain_id)}
            wanted = [corp for corp in listed if corp["corpid"] in in_scope]
        for corp in wanted:
            if cp.shared_after is not None and corp["corpid"] <= cp.shared_after:
                continue
            self._shared_corp(corp, found.get(corp["corpid"]) or chain_contacts.own_home(corp))
            cp.shared_after, cp.member_after = corp["corpid"], None
            self._tick()
        if self.scope.chains is None:
            shared = {corp["corpid"] for corp in listed}
            inactivated = chain_contacts.inactivate_unshared(self.tenant, shared | set(cp.corps_failed))
            cp.add_chain_contacts({"inactivated": inactivated})
            own = {organisations.shared_corp_id(corpid) for corpid in shared - set(found)}
            for node_id in organisations.active_ids_with_prefix(self.key, organisations.SHARED_CORPS_PREFIX):
                if node_id not in own and organisations.inactivate(self.key, node_id):
                    cp.add_organisations({"inactivated": 1})
        if cp.corps_failed:
            cp.failed_phases.append(CHAIN_CONTACTS)

    def _chain_corpids(self, chain_id: str) -> set[str]:
        prefix = organisations.chain_corps_prefix(chain_id)
        return {node_id[len(prefix):] for node_id in organisations.active_ids_with_prefix(self.key, prefix)
                if not node_id[len(prefix):].startswith("pending:")}

    def _shared_corp(self, corp: dict, home: chain_contacts.CorpHome) -> None:
        """One downstream corp: its visible members, a page at a time (resumed after `member_after`), then the ones
        it no longer shows. WeCom refusing the corp for good (its token, 60011…) is recorded against the corp."""
        cp, corpid = self.cp, corp["corpid"]
        try:
            with self._calling_wecom():
                client = downstream_client(self.tenant, corpid, wait_for_permits=False)
                userids = sorted(set(client.list_member_ids()))
                if home.spec is not None:
                    cp.add_organisations(self.nodes.write([home.spec]))
                current = set(userids)
                todo = [userid for userid in userids if cp.member_after is None or userid > cp.member_after]
                for index, page in enumerate(pages(todo, PAGE)):
                    if index:
                        self._tick()
                    members = []
                    for userid in page:
                        try:
                            members.append(client.get_member(userid))
                        except WeComApiError as err:
                            if not err.unknown_user:
                                raise
                            current.discard(userid)  # left between the listing and the read
                    cp.add_chain_contacts(chain_contacts.apply_members(self.tenant, corp, home, members, self.run_id))
                    cp.member_after = page[-1]
            cp.add_chain_contacts({"inactivated": chain_contacts.inactivate_gone(self.tenant, corpid, current),
                                   "corps": 1})
        except _PhaseFailed as failure:
            logger.warning("downstream corp refused", extra={"corpid": corpid, "code": failure.code})
            cp.corps_failed.append(corpid)
            cp.record_error(CHAIN_CONTACTS, failure.code,
                            f"{corp.get('corp_name') or corpid} ({corpid}): {failure.message}")

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
        sync_runs.release_invocation(self.key, self.run_id, self.invocation, clock.now() + delay + RUN_LEASE_SECONDS)
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
