"""The profile-links table: the 与我协作 link runs of each tenant and every member's outcome in them.

One table, two kinds of items (PynamoDB subclasses told apart by `kind`):

    run      pk = <tenantKey>             sk = run#<runId>   trigger, state, how many members were queued
    member   pk = <tenantKey>#<runId>     sk = <userId>      linked | pending | failed, url written, errcode,
                                                              message, attempts, runStatus (<tenantKey>#<runId>#<status>)

A run's figures are counted from its member items through the `byRunStatus` index (a Query with Select=COUNT per
status: no item comes back, a 10,000-member run is one page per status), never kept in counters: a message delivered
twice, retried or redriven from the dead-letter queue rewrites its own member's item, so the counts cannot drift and
no write has to be a transaction on a hot counter. The same index lists a run's failed members with their reasons.
Every key starts with the tenantKey. Items expire after `RETENTION`: runs are history, WeCom holds the truth.
"""
from __future__ import annotations

from datetime import timedelta
from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from chalicelib.core import clock
from chalicelib.store.base import TableModel, conditional_save, conditional_update, table_meta

LINKED = "linked"
PENDING = "pending"
FAILED = "failed"

LISTING = "listing"  # the run is listing the corp's members and queueing them
QUEUED = "queued"  # every member is queued; the run is done when none is pending
LIST_FAILED = "list_failed"  # WeCom refused the member list for good: nothing was queued

RETENTION = timedelta(days=35)
RUN_PREFIX = "run#"


class RunStatusIndex(GlobalSecondaryIndex):
    """A run's members in one status, by userid: counted for progress, listed for the failed ones' reasons."""

    class Meta:
        index_name = "byRunStatus"
        projection = IncludeProjection(["kind", "status", "written", "errcode", "message", "attempts"])

    run_status = UnicodeAttribute(hash_key=True, attr_name="runStatus")
    sk = UnicodeAttribute(range_key=True)


class ProfileLinkItem(TableModel):
    Meta = table_meta("profile-links")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    run_status = UnicodeAttribute(null=True, attr_name="runStatus")  # member items only
    updated_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="updatedAt")
    ttl = TTLAttribute(null=True)

    by_run_status = RunStatusIndex()


class LinkRun(ProfileLinkItem, discriminator="run"):
    """One bulk run (or a callback's handful of members): what started it and how many members it queued."""

    trigger = UnicodeAttribute()
    state = UnicodeAttribute(default=LISTING)
    queued = NumberAttribute(default=0)
    started_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="startedAt")
    listed_at = UTCDateTimeAttribute(null=True, attr_name="listedAt")
    error = UnicodeAttribute(null=True)

    @property
    def run_id(self) -> str:
        return self.sk[len(RUN_PREFIX):]


class MemberLink(ProfileLinkItem, discriminator="member"):
    """A member's latest outcome in one run."""

    status = UnicodeAttribute()
    url = UnicodeAttribute(null=True)
    written = BooleanAttribute(default=False)
    errcode = NumberAttribute(null=True)
    message = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=1)

    @property
    def user_id(self) -> str:
        return self.sk


def _run_key(tenant_key: str, run_id: str) -> tuple[str, str]:
    return tenant_key, f"{RUN_PREFIX}{run_id}"


def _members_key(tenant_key: str, run_id: str) -> str:
    return f"{tenant_key}#{run_id}"


def _status_key(tenant_key: str, run_id: str, status: str) -> str:
    return f"{tenant_key}#{run_id}#{status}"


def create_run(tenant_key: str, run_id: str, trigger: str) -> bool:
    """Create the run, in the listing state, unless it exists (False): the message that lists a run's members may
    be delivered more than once."""
    pk, sk = _run_key(tenant_key, run_id)
    return conditional_save(LinkRun(pk, sk, trigger=trigger, state=LISTING, ttl=RETENTION), LinkRun.pk.does_not_exist())


def get_run(tenant_key: str, run_id: str) -> LinkRun | None:
    try:
        return LinkRun.get(*_run_key(tenant_key, run_id))
    except DoesNotExist:
        return None


def recent_runs(tenant_key: str, limit: int) -> list[LinkRun]:
    """The tenant's latest runs first (run ids sort by their start time)."""
    return list(
        LinkRun.query(tenant_key, LinkRun.sk.startswith(RUN_PREFIX), scan_index_forward=False, limit=limit)
    )


def count_queued(tenant_key: str, run_id: str, queued: int) -> None:
    """Progress of the listing: never lowers the figure (a retried listing counts again from 0)."""
    pk, sk = _run_key(tenant_key, run_id)
    conditional_update(
        LinkRun(pk, sk),
        [LinkRun.queued.set(queued), LinkRun.updated_at.set(clock.utcnow())],
        LinkRun.pk.exists() & (LinkRun.queued <= queued),
    )


def finish_listing(tenant_key: str, run_id: str, queued: int) -> None:
    """Every member is queued: `queued` is now the run's size."""
    pk, sk = _run_key(tenant_key, run_id)
    LinkRun(pk, sk).update(
        actions=[
            LinkRun.queued.set(queued),
            LinkRun.state.set(QUEUED),
            LinkRun.listed_at.set(clock.utcnow()),
            LinkRun.updated_at.set(clock.utcnow()),
        ],
        condition=LinkRun.pk.exists(),
    )


def fail_listing(tenant_key: str, run_id: str, error: str) -> None:
    pk, sk = _run_key(tenant_key, run_id)
    LinkRun(pk, sk).update(
        actions=[LinkRun.state.set(LIST_FAILED), LinkRun.error.set(error[:500]),
                 LinkRun.updated_at.set(clock.utcnow())],
        condition=LinkRun.pk.exists(),
    )


def record(
    tenant_key: str,
    run_id: str,
    user_id: str,
    status: str,
    *,
    attempts: int,
    url: str | None = None,
    written: bool = False,
    errcode: int | None = None,
    message: str | None = None,
) -> None:
    """Replace the member's outcome in the run: the latest attempt is the member's state."""
    _save_member(tenant_key, run_id, user_id, status, attempts=attempts, url=url, written=written, errcode=errcode,
                 message=message)


def mark_writing(tenant_key: str, run_id: str, user_id: str, *, attempts: int) -> None:
    """Note, just before user/update, that this run is writing the member's link: a delivery that crashes after the
    write but before `record` leaves this behind, so the redelivery (which finds the link already there) still
    counts the member as written by the run."""
    _save_member(tenant_key, run_id, user_id, PENDING, attempts=attempts, url=None, written=True, errcode=None,
                 message=None)


def written_in_run(tenant_key: str, run_id: str, user_id: str) -> bool:
    """Whether an earlier delivery of this run wrote (or began writing) the member's link."""
    try:
        return bool(MemberLink.get(_members_key(tenant_key, run_id), user_id, consistent_read=True).written)
    except DoesNotExist:
        return False


def _save_member(tenant_key: str, run_id: str, user_id: str, status: str, *, attempts: int, url: str | None,
                 written: bool, errcode: int | None, message: str | None) -> None:
    MemberLink(
        _members_key(tenant_key, run_id),
        user_id,
        run_status=_status_key(tenant_key, run_id, status),
        status=status,
        url=url,
        written=written,
        errcode=errcode,
        message=message[:500] if message else None,
        attempts=attempts,
        ttl=RETENTION,
    ).save()


def count_members(tenant_key: str, run_id: str, status: str, *, written_only: bool = False) -> int:
    """How many of the run's members are in `status` (with `written_only`: linked by a write of this run)."""
    return ProfileLinkItem.by_run_status.count(
        _status_key(tenant_key, run_id, status),
        filter_condition=(MemberLink.written == True) if written_only else None,  # noqa: E712
    )


def members_in(tenant_key: str, run_id: str, status: str, *, after: str = "", limit: int) -> list[MemberLink]:
    """Up to `limit` of the run's members in `status`, by userid, those after `after`."""
    return list(ProfileLinkItem.by_run_status.query(
        _status_key(tenant_key, run_id, status),
        ProfileLinkItem.sk > after if after else None,
        limit=limit,
    ))
