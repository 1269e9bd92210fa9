"""The followers table: who follows a tenant's WeChat official account, and the reconciliation that learns them.

Rows under each tenantKey:
- `openid#<openid>` (`Follower`): one person under the account (`appid`), their unionid when WeChat gave it, whether
  they follow it now, and `changedAt` — the time of the fact last recorded (an event's CreateTime, or when the
  account was asked). A write applies only if it is newer than what is stored, so events that arrive late or twice
  never undo a newer fact. `byUnion` finds the openid of a unionid (the WeCom customer sync knows unionids).
- `reconcile` (`ReconcileRun`): the tenant's follower reconciliation — the run in progress or the last one, where
  it stands (the user/get page and the offset within it), its counts and errors. Transitions are conditional on
  the run id and a sequence number, so a stale invocation never overwrites a newer checkpoint.
"""
from __future__ import annotations

from typing import Iterator

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from chalicelib.core import clock
from chalicelib.store.base import TableModel, conditional_save, conditional_update, table_meta

FOLLOWER_PREFIX = "openid#"
RECONCILE_KEY = "reconcile"
RUNNING, SUCCEEDED, PARTIAL, FAILED = "running", "succeeded", "partial", "failed"
MAX_ERRORS = 20


class UnionIndex(GlobalSecondaryIndex):
    """The openid(s) of a unionid in a tenant."""

    class Meta:
        index_name = "byUnion"
        projection = IncludeProjection(["rowType"])  # the row's type, so the hit deserialises

    union_key = UnicodeAttribute(hash_key=True, attr_name="unionKey")


class FollowerTableRow(TableModel):
    Meta = table_meta("followers")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    sk = UnicodeAttribute(range_key=True)
    row_type = DiscriminatorAttribute(attr_name="rowType")
    union_key = UnicodeAttribute(null=True, attr_name="unionKey")

    by_union = UnionIndex()


class Follower(FollowerTableRow, discriminator="follower"):
    appid = UnicodeAttribute()
    openid = UnicodeAttribute()
    unionid = UnicodeAttribute(null=True)
    following = BooleanAttribute()
    changed_at = NumberAttribute(attr_name="changedAt")
    source = UnicodeAttribute()  # subscribe | unsubscribe | SCAN | reconcile
    scene = UnicodeAttribute(null=True)  # the QR scene of the last follow or scan
    run_id = UnicodeAttribute(null=True, attr_name="runId")  # the reconciliation that last saw them follow


class ReconcileRun(FollowerTableRow, discriminator="run"):
    run_id = UnicodeAttribute(attr_name="runId")
    appid = UnicodeAttribute()
    trigger = UnicodeAttribute()
    status = UnicodeAttribute()
    started_at = NumberAttribute(attr_name="startedAt")
    updated_at = NumberAttribute(attr_name="updatedAt")
    finished_at = NumberAttribute(null=True, attr_name="finishedAt")
    seq = NumberAttribute(default=0)
    page_openid = UnicodeAttribute(default="", attr_name="pageOpenid")  # the next_openid the current page came from
    offset = NumberAttribute(default=0)  # openids of the current page already applied
    counts = MapAttribute(default=dict)
    errors = ListAttribute(of=MapAttribute, default=list)


def follower_sk(openid: str) -> str:
    return f"{FOLLOWER_PREFIX}{openid}"


def union_key(tenant_key: str, unionid: str) -> str:
    return f"{tenant_key}#{unionid}"


def get(tenant_key: str, openid: str) -> Follower | None:
    try:
        return Follower.get(tenant_key, follower_sk(openid))
    except DoesNotExist:
        return None


def find_by_unionid(tenant_key: str, appid: str, unionid: str) -> Follower | None:
    """The person of this unionid under the account `appid` (one Query on `byUnion`, then a GetItem per hit); a row
    of an account the tenant no longer uses is passed over."""
    for hit in FollowerTableRow.by_union.query(union_key(tenant_key, unionid)):
        row = get(tenant_key, hit.sk[len(FOLLOWER_PREFIX):]) if hit.sk.startswith(FOLLOWER_PREFIX) else None
        if row is not None and row.appid == appid:
            return row
    return None


def record(tenant_key: str, appid: str, openid: str, *, following: bool, at: float, source: str,
           unionid: str | None = None, scene: str | None = None, run_id: str | None = None) -> bool:
    """Record what is known of one person at time `at`; False (nothing written) when a later fact is stored. A unionid
    once learned is kept when a later fact (an unfollow) does not carry one."""
    row = Follower(tenant_key, follower_sk(openid))
    actions = [Follower.row_type.set(Follower), Follower.appid.set(appid), Follower.openid.set(openid),
               Follower.following.set(following), Follower.changed_at.set(at), Follower.source.set(source)]
    if unionid:
        actions += [Follower.unionid.set(unionid), Follower.union_key.set(union_key(tenant_key, unionid))]
    if scene:
        actions.append(Follower.scene.set(scene))
    if run_id:
        actions.append(Follower.run_id.set(run_id))
    # Of two facts of one second (a follow and an unfollow at once), the one applied last stands.
    newer = Follower.changed_at.does_not_exist() | (Follower.changed_at <= at) | (Follower.appid != appid)
    return conditional_update(row, actions, newer)


def following_not_seen(tenant_key: str, appid: str, run_id: str, before: float) -> Iterator[Follower]:
    """Followers recorded as following before `before` that the reconciliation `run_id` did not see: they stopped
    following while no event reached us. One Query over the tenant's partition (a reconciliation's, never a
    request's)."""
    condition = ((Follower.following == True) & (Follower.appid == appid)  # noqa: E712 - a DynamoDB condition
                 & (Follower.changed_at < before)
                 & (Follower.run_id.does_not_exist() | (Follower.run_id != run_id)))
    return Follower.query(tenant_key, Follower.sk.startswith(FOLLOWER_PREFIX), filter_condition=condition)


# --- the reconciliation ------------------------------------------------------------------------------------------
def get_run(tenant_key: str) -> ReconcileRun | None:
    try:
        return ReconcileRun.get(tenant_key, RECONCILE_KEY, consistent_read=True)
    except DoesNotExist:
        return None


def _plain(value) -> dict:
    """A raw MapAttribute's value as a dict (a MapAttribute when read, a dict when just assigned)."""
    return value.as_dict() if hasattr(value, "as_dict") else dict(value or {})


def run_counts(run: ReconcileRun) -> dict:
    return _plain(run.counts)


def run_errors(run: ReconcileRun) -> list[dict]:
    return [_plain(error) for error in run.errors or []]


def start_run(tenant_key: str, appid: str, run_id: str, trigger: str, *, stale_before: float) -> bool:
    """Make `run_id` the tenant's run unless another is running and was touched since `stale_before` (a run whose
    invocations all died is taken over rather than block the tenant for ever)."""
    now = clock.now()
    run = ReconcileRun(tenant_key, RECONCILE_KEY, run_id=run_id, appid=appid, trigger=trigger, status=RUNNING,
                       started_at=now, updated_at=now, seq=0, page_openid="", offset=0, counts={}, errors=[])
    free = (ReconcileRun.sk.does_not_exist() | (ReconcileRun.status != RUNNING)
            | (ReconcileRun.updated_at < stale_before))
    return conditional_save(run, free)


def checkpoint(run: ReconcileRun, *, page_openid: str, offset: int, counts: dict, errors: list[dict],
               status: str = RUNNING) -> bool:
    """Save where the run stands (conditional on its id and sequence number); False when the run was taken over."""
    now = clock.now()
    actions = [ReconcileRun.page_openid.set(page_openid), ReconcileRun.offset.set(offset),
               ReconcileRun.counts.set(counts), ReconcileRun.errors.set(errors[-MAX_ERRORS:]),
               ReconcileRun.status.set(status), ReconcileRun.updated_at.set(now),
               ReconcileRun.seq.set(int(run.seq) + 1)]
    if status != RUNNING:
        actions.append(ReconcileRun.finished_at.set(now))
    condition = (ReconcileRun.run_id == run.run_id) & (ReconcileRun.seq == int(run.seq))
    if not conditional_update(ReconcileRun(run.tenant_key, RECONCILE_KEY), actions, condition):
        return False
    run.page_openid, run.offset, run.counts, run.errors = page_openid, offset, counts, errors[-MAX_ERRORS:]
    run.status, run.updated_at, run.seq = status, now, int(run.seq) + 1
    return True
