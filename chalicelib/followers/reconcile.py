"""The follower reconciliation: who follows the official account, learned from the account itself.

Callbacks tell us of follows from the day they were set up; everyone who followed before (or while callbacks were
down) is learned here: `user/get` lists the followers' openids, 10000 a page (`next_openid` continues), and
`user/info/batchget` gives each one's unionid, 100 a call. A run is one queue message at a time (`followers`
queue): it checkpoints after every batch (the page it is on and how far into it), so an invocation out of time
continues in a follow-up message, and a failed one — retried by the queue with backoff — resumes where it stopped.
A batch WeChat refuses for good (an openid it no longer knows) is counted and listed in the run's errors, and the
run goes on; it ends `partial` then. Only a run that saw every batch marks those it did not list as no longer
following (they unfollowed while no event reached us).
One run per tenant at a time: the admin's request (`POST …/wechat/followers/reconcile`) and the daily schedule start
one; a run whose invocations all died is taken over after `STALE_SECONDS`.
"""
from __future__ import annotations

import math
import secrets
import time
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, NotFound, PermanentError, RetryLater, TenantNotFound
from chalicelib.core.observability import logger
from chalicelib.store import followers, queues
from chalicelib.store import tenants as tenant_store
from chalicelib.store.followers import ReconcileRun
from chalicelib.store.tenants import Tenant
from chalicelib.sync.run import Deadline
from chalicelib.tenants import official_account
from chalicelib.wecom.errors import RateLimited, WeComApiError
from chalicelib.wecom.official_account import BATCHGET_MAX

STALE_SECONDS = 15 * 60
COUNTS = ("listed", "following", "unionids", "failed", "unfollowed")


def _new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock.now())) + "-" + secrets.token_hex(4)


def start(tenant: Tenant, trigger: str) -> str:
    """Start a run and queue its first message; 404 `wechat_not_configured` without an official account, 409
    `reconcile_in_progress` while another run works."""
    appid = official_account.app_id(tenant)
    if not appid or official_account.client_for(tenant) is None:
        raise NotFound("this team has not connected a WeChat official account (appId and secret)",
                       code="wechat_not_configured")
    run_id = _new_run_id()
    if not followers.start_run(tenant.tenant_key, appid, run_id, trigger, stale_before=clock.now() - STALE_SECONDS):
        raise Conflict("a follower reconciliation is running for this team", code="reconcile_in_progress")
    try:
        queues.send(queues.FOLLOWERS.logical_name, {"tenantKey": tenant.tenant_key, "runId": run_id})
    except Exception:
        run = followers.get_run(tenant.tenant_key)
        if run is not None and run.run_id == run_id:
            followers.checkpoint(run, page_openid="", offset=0, counts={}, status=followers.FAILED,
                                 errors=[{"code": "queue_error", "message": "the run could not be queued"}])
        raise
    logger.info("follower reconciliation started", extra={"runId": run_id, "trigger": trigger})
    return run_id


def schedule_all() -> int:
    """The daily schedule: a run for every enabled tenant with an official account (one already running is left)."""
    started = 0
    for tenant in tenant_store.all_tenants():
        if not tenant.enabled or not official_account.app_id(tenant):
            continue
        try:
            start(tenant_store.get(tenant.tenant_key), "schedule")  # the index projects no secret id
            started += 1
        except (Conflict, NotFound) as err:
            logger.info("follower reconciliation not scheduled", extra={"tenantKey": tenant.tenant_key,
                                                                        "code": err.code})
        except Exception:  # one tenant's broken setup must not keep the others' runs from starting
            logger.exception("follower reconciliation could not be scheduled",
                             extra={"tenantKey": tenant.tenant_key})
    return started


def describe(tenant: Tenant) -> dict[str, Any]:
    """The latest run as the admin reads it (404 `reconcile_not_found` before the first)."""
    run = followers.get_run(tenant.tenant_key)
    if run is None:
        raise NotFound("no follower reconciliation has run for this team", code="reconcile_not_found")
    counts = followers.run_counts(run)
    return {
        "runId": run.run_id, "trigger": run.trigger, "status": run.status,
        "startedAt": _iso(run.started_at), "updatedAt": _iso(run.updated_at), "finishedAt": _iso(run.finished_at),
        "counts": {name: int(counts.get(name, 0)) for name in COUNTS},
        "errors": followers.run_errors(run),
    }


def _iso(value: float | None) -> str | None:
    return None if value is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(value)))


def process(body: dict, deadline: Deadline) -> None:
    """One invocation's share of a run (`{"tenantKey", "runId"}`). A message of a run that is over or was taken over
    does nothing."""
    try:
        tenant = tenant_store.get(str(body.get("tenantKey") or ""))
    except TenantNotFound as err:
        raise PermanentError("tenant_not_found", err.message) from None
    run = followers.get_run(tenant.tenant_key)
    if run is None or run.run_id != body.get("runId") or run.status != followers.RUNNING:
        logger.info("follower reconciliation message of a run not running ignored", extra={"runId": body.get("runId")})
        return
    _Walk(tenant, run, deadline).run()



def snapshot_time() -> float:
    """When a fact read from the account's lists is recorded as true. WeChat stamps its events to the second, and an
    event of the second the lists were read in may or may not be in them: the snapshot is placed half a second before
    that second, so such an event (applied before or after the run) wins over it, and one of an earlier second does
    not."""
    return math.floor(clock.now()) - 0.5

class _Walk:
    """Where one invocation stands in the run: the page being worked, how far into it, counts and errors."""

    def __init__(self, tenant: Tenant, run: ReconcileRun, deadline: Deadline) -> None:
        self.tenant, self.run_row, self.deadline = tenant, run, deadline
        stored = followers.run_counts(run)
        self.counts = {name: int(stored.get(name, 0)) for name in COUNTS}
        self.errors = followers.run_errors(run)
        self.page_openid, self.offset = run.page_openid or "", int(run.offset or 0)

    def run(self) -> None:
        client = official_account.client_for(self.tenant)
        if client is None or official_account.app_id(self.tenant) != self.run_row.appid:
            self.errors.append({"code": "wechat_not_configured",
                                "message": "the team's official account changed or was disconnected"})
            self._save(followers.FAILED)
            return
        try:
            while True:
                openids, next_openid = client.followers_page(self.page_openid)
                if self.offset == 0:
                    self.counts["listed"] += len(openids)
                while self.offset < len(openids):
                    if self.deadline.expired():
                        self._continue_later()
                        return
                    chunk = openids[self.offset:self.offset + BATCHGET_MAX]
                    self._apply(client, chunk)
                    self.offset += len(chunk)
                    if not self._save():
                        return
                if not openids or not next_openid:
                    break
                self.page_openid, self.offset = next_openid, 0
                if not self._save():
                    return
        except RateLimited as err:
            self._save()
            raise RetryLater(max(1, int(err.retry_after)), "rate_limited") from None
        except WeComApiError as err:
            if err.transient or err.token_invalid:
                raise  # the queue retries with backoff; the run resumes from its last checkpoint
            self.errors.append({"code": f"wecom_{err.errcode}", "message": str(err)[:200]})
            self._save(followers.FAILED)
            return
        self._finish()

    def _apply(self, client, chunk: list[str]) -> None:
        try:
            users = client.users_info(chunk)
        except WeComApiError as err:
            if err.transient or err.token_invalid:
                raise
            self.counts["failed"] += len(chunk)
            self.errors.append({"code": f"wecom_{err.errcode}", "message": str(err)[:200],
                                "batchStart": self.offset, "batchSize": len(chunk)})
            logger.warning("a batch of followers could not be read", extra={"errcode": err.errcode})
            return
        at = snapshot_time()
        answered = 0
        for user in users:
            openid = user.get("openid")
            if not openid or openid not in chunk:
                continue
            answered += 1
            following = int(user.get("subscribe") or 0) == 1
            followers.record(self.tenant.tenant_key, self.run_row.appid, openid, following=following, at=at,
                             source="reconcile", unionid=user.get("unionid") or None,
                             run_id=self.run_row.run_id if following else None)
            self.counts["following"] += following
            self.counts["unionids"] += bool(following and user.get("unionid"))
        self.counts["failed"] += len(chunk) - answered

    def _save(self, status: str = followers.RUNNING) -> bool:
        saved = followers.checkpoint(self.run_row, page_openid=self.page_openid, offset=self.offset,
                                     counts=self.counts, errors=self.errors, status=status)
        if not saved:
            logger.info("follower reconciliation taken over by another run: stopping")
        return saved

    def _continue_later(self) -> None:
        if self._save():
            queues.send(queues.FOLLOWERS.logical_name,
                        {"tenantKey": self.tenant.tenant_key, "runId": self.run_row.run_id})
            logger.info("follower reconciliation continues in a new invocation")

    def _finish(self) -> None:
        """Every batch seen: those recorded as following whom the account did not list have unfollowed."""
        if not self.counts["failed"]:
            for row in followers.following_not_seen(self.tenant.tenant_key, self.run_row.appid, self.run_row.run_id,
                                                    float(self.run_row.started_at)):
                if followers.record(self.tenant.tenant_key, row.appid, row.openid, following=False,
                                    at=snapshot_time(), source="reconcile"):
                    self.counts["unfollowed"] += 1
        status = followers.PARTIAL if self.errors else followers.SUCCEEDED
        self._save(status)
        logger.info("follower reconciliation finished", extra={"status": status, **self.counts})
