"""The 与我协作 profile link's entry points: the admin routes, the queue consumer and the daily reconciliation.

    POST /api/admin/tenants/{tenantKey}/profile-links/runs            start a bulk run (同步) → 202 + its progress
    GET  /api/admin/tenants/{tenantKey}/profile-links/runs            the latest runs
    GET  /api/admin/tenants/{tenantKey}/profile-links/runs/{runId}    a run's progress, its failed members with reasons
    GET  /api/admin/tenants/{tenantKey}/profile-links/manual-link     the link an admin pastes by hand

Admin routes take an admin member's session or the tenant's admin token (`chalicelib.auth.admin_access`).
"""
from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.core import config, paging
from chalicelib.handlers import sqs
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.auth import admin_access
from chalicelib.profile_links import link as link_entry
from chalicelib.profile_links import runs as link_runs
from chalicelib.profile_links import status as link_status
from chalicelib.profile_links import worker as link_worker
from chalicelib.store.queues import PROFILE_LINKS

if TYPE_CHECKING:
    from chalicelib.store.tenants import Tenant

bp = ApiBlueprint(__name__)
MAX_LIST = 500


def _admin_tenant(tenant_key: str) -> Tenant:
    return admin_access.admin_tenant(tenant_key, bp.current_request.headers)


def _limit(default: int) -> int:
    return paging.page_size((bp.current_request.query_params or {}).get("limit"), default=default, maximum=MAX_LIST)


@bp.route("/api/admin/tenants/{tenantKey}/profile-links/runs", methods=["POST"])
def start_run(tenantKey: str) -> Response:
    tenant = _admin_tenant(tenantKey)
    run_id = link_runs.start_bulk_run(tenant, trigger="admin")
    return Response(body=link_status.progress(tenant, run_id), status_code=202)


@bp.route("/api/admin/tenants/{tenantKey}/profile-links/runs", methods=["GET"])
def list_runs(tenantKey: str) -> dict:
    tenant = _admin_tenant(tenantKey)
    return {"runs": link_status.recent_runs(tenant, _limit(20))}


@bp.route("/api/admin/tenants/{tenantKey}/profile-links/runs/{runId}", methods=["GET"])
def run_progress(tenantKey: str, runId: str) -> dict:
    tenant = _admin_tenant(tenantKey)
    after = (bp.current_request.query_params or {}).get("failedAfter") or ""
    return link_status.progress(tenant, runId, failed_after=after, failed_limit=_limit(100))


@bp.route("/api/admin/tenants/{tenantKey}/profile-links/manual-link", methods=["GET"])
def manual_link(tenantKey: str) -> dict:
    return link_entry.manual_link(_admin_tenant(tenantKey))


@bp.on_sqs_message(queue=config.resource_name(PROFILE_LINKS.logical_name), batch_size=PROFILE_LINKS.batch_size)
def process_profile_links(event) -> dict:
    """Each message goes through `sqs.consume` on its own, told its receive count: a member still failing at the last
    attempt is recorded failed (not pending) before the message is dead-lettered."""
    failures: list[dict] = []
    for record in event:
        receives = int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", "1"))
        handle = partial(
            link_worker.process_message, attempt=receives, final=receives >= PROFILE_LINKS.max_receive_count
        )
        answer = sqs.consume([record], PROFILE_LINKS.logical_name, handle, PROFILE_LINKS.max_receive_count)
        failures += answer["batchItemFailures"]
    return {"batchItemFailures": failures}


@bp.schedule(os.environ.get("YQ_PROFILE_LINK_SCHEDULE", "rate(1 day)"), name="schedule_profile_links")
def schedule_profile_links(event) -> dict:
    """The reconciliation that repairs drift (a link edited away, a member whose callback was missed)."""
    return {"queued": link_runs.schedule_runs()}
