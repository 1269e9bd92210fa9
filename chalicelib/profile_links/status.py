"""What the admin reads of the profile-link runs: a run's figures and failed members, the latest runs."""
from __future__ import annotations

from typing import Any

from chalicelib.core.errors import NotFound
from chalicelib.store import profile_links as store
from chalicelib.store.profile_links import FAILED, LINKED, PENDING
from chalicelib.store.tenants import Tenant


def progress(tenant: Tenant, run_id: str, *, failed_after: str = "", failed_limit: int = 100) -> dict[str, Any]:
    """A run's figures and its failed members with their reasons (by userid, `failed_limit` after `failed_after`).

    pending = queued − linked − failed: members not done yet, `retrying` of them after a transient failure.
    """
    tenant_key = tenant.tenant_key
    run = store.get_run(tenant_key, run_id)
    if run is None:
        raise NotFound(f"no profile-link run {run_id!r}", code="run_not_found")
    written = store.count_members(tenant_key, run_id, LINKED, written_only=True)  # first: never above `linked`
    tally = {status: store.count_members(tenant_key, run_id, status) for status in (LINKED, FAILED, PENDING)}
    failed = store.members_in(tenant_key, run_id, FAILED, after=failed_after, limit=failed_limit + 1)
    queued = max(int(run.queued), sum(tally.values()))  # members may be done before the listing counted them
    pending = queued - tally[LINKED] - tally[FAILED]
    if run.state == store.LIST_FAILED:
        state = "failed"
    elif run.state == store.LISTING:
        state = "listing"
    else:
        state = "done" if pending == 0 else "running"
    return {
        "runId": run_id,
        "trigger": run.trigger,
        "state": state,
        "error": run.error,
        "startedAt": run.started_at.isoformat(),
        "listedAt": run.listed_at.isoformat() if run.listed_at else None,
        "queued": queued,
        "linked": tally[LINKED],
        "written": written,
        "failed": tally[FAILED],
        "pending": pending,
        "retrying": tally[PENDING],
        "failedMembers": [
            {
                "userId": member.user_id,
                "errcode": None if member.errcode is None else int(member.errcode),
                "message": member.message,
                "attempts": int(member.attempts),
            }
            for member in failed[:failed_limit]
        ],
        "nextFailedAfter": failed[failed_limit - 1].user_id if len(failed) > failed_limit else None,
    }


def recent_runs(tenant: Tenant, limit: int = 20) -> list[dict]:
    """The tenant's latest runs, newest first; `progress` has each one's figures."""
    return [
        {
            "runId": run.run_id,
            "trigger": run.trigger,
            "startedAt": run.started_at.isoformat(),
            "queued": int(run.queued),
        }
        for run in store.recent_runs(tenant.tenant_key, limit)
    ]
