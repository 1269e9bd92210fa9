"""The sync's entry points: the queue consumer, the schedule's fan-out and the admin routes.

    POST /api/admin/tenants/{tenantKey}/sync         the admin's 同步: queue a full run now → 202 {runId}
                                                     (409 sync_in_progress while another run holds the tenant)
    GET  /api/admin/tenants/{tenantKey}/sync/runs    the latest runs (?limit=1..50, default 10) with their counts

Admin routes take an admin member's session or the tenant's admin token (`chalicelib.auth.admin_access`).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.core import config, paging
from chalicelib.handlers import sqs
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.auth import admin_access
from chalicelib.sync import run as sync_run
from chalicelib.sync import checkpoint as sync_checkpoint
from chalicelib.sync import triggers as sync_triggers
from chalicelib.store.queues import SYNC

if TYPE_CHECKING:
    from chalicelib.store.tenants import Tenant

bp = ApiBlueprint(__name__)
DEFAULT_RUNS = 10
MAX_RUNS = 50


def _admin_tenant(tenant_key: str) -> Tenant:
    return admin_access.admin_tenant(tenant_key, bp.current_request.headers)


@bp.route("/api/admin/tenants/{tenantKey}/sync", methods=["POST"])
def trigger_sync(tenantKey: str) -> Response:
    tenant = _admin_tenant(tenantKey)
    run_id = sync_run.start_admin_run(tenant)
    return Response(body={"runId": run_id, "status": "queued"}, status_code=202)


@bp.route("/api/admin/tenants/{tenantKey}/sync/runs", methods=["GET"])
def list_sync_runs(tenantKey: str) -> dict:
    tenant = _admin_tenant(tenantKey)
    limit = paging.page_size((bp.current_request.query_params or {}).get("limit"), default=DEFAULT_RUNS,
                             maximum=MAX_RUNS)
    return {"runs": sync_checkpoint.latest_runs(tenant, limit)}


@bp.on_sqs_message(queue=config.resource_name(SYNC.logical_name), batch_size=SYNC.batch_size)
def process_sync(event) -> dict:
    """One message per invocation (batch size 1): a run uses the invocation's whole time budget, holding its message
    a short while at a time (`SYNC.hold_seconds`) so that a killed invocation's run resumes soon."""
    deadline = sync_run.Deadline.of_context(event.context)
    return sqs.consume(event, SYNC.logical_name, lambda body: sync_run.process(body, deadline), SYNC.max_receive_count,
                       SYNC.hold_seconds)


@bp.schedule(os.environ.get("YQ_SYNC_SCHEDULE", "rate(1 hour)"), name="schedule_sync")
def schedule_sync(event) -> dict:
    return {"queued": sync_triggers.schedule_all()}
