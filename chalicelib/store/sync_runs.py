"""Sync runs, the lease that keeps them apart, and their checkpoints: the sync-runs table.

Items under each tenantKey:
- `lease`: the run that owns the tenant's sync (`holder`, until `runExpiresAt`; an admin's run reserves it before its
  message is sent) and the invocation working on it right now (`invocation`, until `invocationExpiresAt`, a short
  hold its heartbeat renews), plus the requests that arrived meanwhile (`pendingFull`,
  `pendingChains`). Two leases in one: the run lease keeps two runs from overlapping across the queue hops between
  invocations; the invocation lease keeps a redelivered message from working on a run alongside the invocation that
  already does. Both expire, so a run whose Lambda died cannot block the tenant for ever.
- `run#<runId>`: one run — trigger, scope, status, timestamps, counts, errors and its checkpoint. Run ids begin with
  the UTC time of the request, so the latest runs are one Query in descending key order.
Every transition is a conditional write: acquiring and releasing the lease, and each checkpoint, which also carries a
sequence number so that an invocation which lost the run can never overwrite a newer checkpoint.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable, Iterator

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist

from chalicelib.core import clock
from chalicelib.store.base import TableModel, conditional_save, conditional_update, table_meta

LEASE_KEY = "lease"
RUN_PREFIX = "run#"
RUNNING, SUCCEEDED, PARTIAL, FAILED, ABANDONED = "running", "succeeded", "partial", "failed", "abandoned"
KEEP_RUNS_FOR = timedelta(days=90)


class SyncItem(TableModel):
    Meta = table_meta("sync-runs")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    item_key = UnicodeAttribute(range_key=True, attr_name="itemKey")
    # the lease item
    holder = UnicodeAttribute(null=True)
    invocation = UnicodeAttribute(null=True)
    invocation_expires_at = NumberAttribute(null=True, attr_name="invocationExpiresAt")
    run_expires_at = NumberAttribute(null=True, attr_name="runExpiresAt")
    pending_full = BooleanAttribute(null=True, attr_name="pendingFull")
    pending_chains = UnicodeSetAttribute(null=True, attr_name="pendingChains")
    version = NumberAttribute(null=True)
    # run items
    run_id = UnicodeAttribute(null=True, attr_name="runId")
    trigger = UnicodeAttribute(null=True)
    scope = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True, attr_name="startedAt")
    finished_at = UTCDateTimeAttribute(null=True, attr_name="finishedAt")
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")
    invocations = NumberAttribute(null=True)
    seq = NumberAttribute(null=True)
    checkpoint = UnicodeAttribute(null=True)
    counts = MapAttribute(null=True)
    errors = ListAttribute(null=True, of=MapAttribute)
    expires_at = TTLAttribute(null=True, attr_name="expiresAt")


def _get(tenant_key: str, item_key: str) -> SyncItem | None:
    try:
        return SyncItem.get(tenant_key, item_key, consistent_read=True)
    except DoesNotExist:
        return None


# --- the lease -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Acquisition:
    """What `acquire` found: the lease is ours (`acquired`), or which run holds it."""

    acquired: bool
    holder: str | None = None
    taken_over: str | None = None  # the expired run we took the lease from, to be marked abandoned


@dataclass(frozen=True)
class Pending:
    """Requests that arrived while a run held the lease: one follow-up run covers them all."""

    full: bool
    chains: tuple[str, ...]


def acquire(tenant_key: str, run_id: str, invocation: str, at: float, invocation_until: float,
            run_until: float) -> Acquisition:
    """Take the lease for `run_id`, or its next invocation: when no run holds it (or the holder's lease expired),
    or the run is already ours and no live invocation works on it."""
    free = SyncItem.holder.does_not_exist() | (SyncItem.run_expires_at < at)
    ours_idle = (SyncItem.holder == run_id) & (
        SyncItem.invocation.does_not_exist() | (SyncItem.invocation_expires_at < at)
    )
    for _attempt in range(3):
        before = _get(tenant_key, LEASE_KEY)
        if conditional_update(
            SyncItem(tenant_key, LEASE_KEY),
            [
                SyncItem.holder.set(run_id),
                SyncItem.invocation.set(invocation),
                SyncItem.invocation_expires_at.set(invocation_until),
                SyncItem.run_expires_at.set(run_until),
                SyncItem.version.add(1),
            ],
            free | ours_idle,
        ):
            previous = before.holder if before is not None else None
            return Acquisition(True, run_id, previous if previous and previous != run_id else None)
        current = _get(tenant_key, LEASE_KEY)
        if current is not None and current.holder:
            return Acquisition(False, current.holder)
    return Acquisition(False, None)  # the lease kept changing hands: the caller retries the message later


def reserve(tenant_key: str, run_id: str, at: float, run_until: float) -> Acquisition:
    """Take the lease for a run about to be queued (no invocation yet: its first message finds the run its own), so
    that the run id a requester is given is the one that runs. Not acquired: which live run holds the tenant."""
    free = SyncItem.holder.does_not_exist() | (SyncItem.run_expires_at < at)
    for _attempt in range(3):
        before = _get(tenant_key, LEASE_KEY)
        if conditional_update(
            SyncItem(tenant_key, LEASE_KEY),
            [
                SyncItem.holder.set(run_id),
                SyncItem.invocation.remove(),
                SyncItem.invocation_expires_at.remove(),
                SyncItem.run_expires_at.set(run_until),
                SyncItem.version.add(1),
            ],
            free,
        ):
            previous = before.holder if before is not None else None
            return Acquisition(True, run_id, previous if previous and previous != run_id else None)
        current = _get(tenant_key, LEASE_KEY)
        if current is not None and current.holder:
            return Acquisition(False, current.holder)
    return Acquisition(False, None)


def cancel_reservation(tenant_key: str, run_id: str) -> bool:
    """Give back a reservation whose run could not be queued (no invocation has started it)."""
    return conditional_update(
        SyncItem(tenant_key, LEASE_KEY),
        [SyncItem.holder.remove(), SyncItem.run_expires_at.remove(), SyncItem.version.add(1)],
        (SyncItem.holder == run_id) & SyncItem.invocation.does_not_exist(),
    )


def renew_invocation(tenant_key: str, run_id: str, invocation: str, until: float) -> bool:
    """The invocation is alive: keep its lease until `until` (False once it let go or lost the run)."""
    return conditional_update(
        SyncItem(tenant_key, LEASE_KEY),
        [SyncItem.invocation_expires_at.set(until)],
        (SyncItem.holder == run_id) & (SyncItem.invocation == invocation),
    )


def request_rerun(tenant_key: str, requester: str, full: bool, chains: Iterable[str], at: float) -> bool:
    """Note a request on the lease of the run that holds it; False if no other live run holds it any more."""
    actions = [SyncItem.version.add(1)]
    if full:
        actions.append(SyncItem.pending_full.set(True))
    chain_ids = set(chains)
    if chain_ids:
        actions.append(SyncItem.pending_chains.add(chain_ids))
    return conditional_update(
        SyncItem(tenant_key, LEASE_KEY),
        actions,
        SyncItem.holder.exists() & (SyncItem.holder != requester) & (SyncItem.run_expires_at >= at),
    )


def release_invocation(tenant_key: str, run_id: str, invocation: str, run_until: float) -> bool:
    """This invocation stops; the run keeps the tenant (until `run_until`) for its follow-up message."""
    return conditional_update(
        SyncItem(tenant_key, LEASE_KEY),
        [
            SyncItem.invocation.remove(),
            SyncItem.invocation_expires_at.remove(),
            SyncItem.run_expires_at.set(run_until),
        ],
        (SyncItem.holder == run_id) & (SyncItem.invocation == invocation),
    )


def release(tenant_key: str, run_id: str, invocation: str) -> Pending | None:
    """The run is over: free the lease and hand back what was requested meanwhile (None if the lease was lost).

    The version check makes reading the pending requests and clearing them one step: a request noted between the
    two makes the release retry instead of being lost.
    """
    while True:
        lease = _get(tenant_key, LEASE_KEY)
        if lease is None or lease.holder != run_id or lease.invocation != invocation:
            return None
        if conditional_update(
            SyncItem(tenant_key, LEASE_KEY),
            [
                SyncItem.holder.remove(),
                SyncItem.invocation.remove(),
                SyncItem.invocation_expires_at.remove(),
                SyncItem.run_expires_at.remove(),
                SyncItem.pending_full.remove(),
                SyncItem.pending_chains.remove(),
                SyncItem.version.add(1),
            ],
            (SyncItem.holder == run_id) & (SyncItem.invocation == invocation) & (SyncItem.version == lease.version),
        ):
            return Pending(bool(lease.pending_full), tuple(sorted(lease.pending_chains or ())))


def lease_of(tenant_key: str) -> SyncItem | None:
    return _get(tenant_key, LEASE_KEY)


# --- runs ------------------------------------------------------------------------------------------------------
def run_key(run_id: str) -> str:
    return f"{RUN_PREFIX}{run_id}"


def start(tenant_key: str, run_id: str, trigger: str, scope: dict, checkpoint: str) -> SyncItem:
    """The run's record, created by its first invocation (a redelivered first message finds it instead)."""
    stamp = clock.utcnow()
    item = SyncItem(
        tenant_key,
        run_key(run_id),
        run_id=run_id,
        trigger=trigger,
        scope=json.dumps(scope, sort_keys=True),
        status=RUNNING,
        started_at=stamp,
        updated_at=stamp,
        invocations=0,
        seq=0,
        checkpoint=checkpoint,
        counts={},
        errors=[],
        expires_at=stamp + KEEP_RUNS_FOR,
    )
    if not conditional_save(item, SyncItem.item_key.does_not_exist()):
        return get_run(tenant_key, run_id)
    return item


def get_run(tenant_key: str, run_id: str) -> SyncItem | None:
    return _get(tenant_key, run_key(run_id))


def begin_invocation(tenant_key: str, run_id: str) -> SyncItem | None:
    """Count the invocation and return the run as it stands (None if it is no longer running)."""
    item = SyncItem(tenant_key, run_key(run_id))
    if not conditional_update(item, [SyncItem.invocations.add(1), SyncItem.updated_at.set(clock.utcnow())],
                        SyncItem.status == RUNNING):
        return None
    return item


def save_checkpoint(tenant_key: str, run_id: str, seq: int, checkpoint: str, counts: dict, errors: list) -> bool:
    """Store progress; False when the run moved on without us (another invocation saved a newer checkpoint)."""
    return conditional_update(
        SyncItem(tenant_key, run_key(run_id)),
        [
            SyncItem.checkpoint.set(checkpoint),
            SyncItem.counts.set(counts),
            SyncItem.errors.set(errors),
            SyncItem.seq.set(seq + 1),
            SyncItem.updated_at.set(clock.utcnow()),
        ],
        (SyncItem.status == RUNNING) & (SyncItem.seq == seq),
    )


def finish(tenant_key: str, run_id: str, seq: int, status: str, checkpoint: str, counts: dict, errors: list) -> bool:
    stamp = clock.utcnow()
    return conditional_update(
        SyncItem(tenant_key, run_key(run_id)),
        [
            SyncItem.status.set(status),
            SyncItem.checkpoint.set(checkpoint),
            SyncItem.counts.set(counts),
            SyncItem.errors.set(errors),
            SyncItem.seq.set(seq + 1),
            SyncItem.finished_at.set(stamp),
            SyncItem.updated_at.set(stamp),
            SyncItem.expires_at.set(stamp + KEEP_RUNS_FOR),
        ],
        (SyncItem.status == RUNNING) & (SyncItem.seq == seq),
    )


def abandon(tenant_key: str, run_id: str, reason: str) -> bool:
    """A run whose lease expired without it finishing (its Lambda died, its message was dead-lettered)."""
    stamp = clock.utcnow()
    return conditional_update(
        SyncItem(tenant_key, run_key(run_id)),
        [
            SyncItem.status.set(ABANDONED),
            SyncItem.errors.set(SyncItem.errors.append([{"phase": "run", "code": "abandoned", "message": reason,
                                                          "at": stamp.isoformat()}])),
            SyncItem.finished_at.set(stamp),
            SyncItem.updated_at.set(stamp),
        ],
        SyncItem.status == RUNNING,
    )


def latest(tenant_key: str, limit: int) -> Iterator[SyncItem]:
    return SyncItem.query(
        tenant_key,
        range_key_condition=SyncItem.item_key.startswith(RUN_PREFIX),
        scan_index_forward=False,
        limit=limit,
    )
