"""The official account's follower reconciliation: the admin's routes, the queue consumer and the daily schedule.

    POST /api/admin/tenants/{tenantKey}/wechat/followers/reconcile   start a run now → 202 {runId, status}
                                                                      (409 reconcile_in_progress, 404 wechat_not_configured)
    GET  /api/admin/tenants/{tenantKey}/wechat/followers/reconcile   the latest run: status, counts, errors

Admin routes take an admin member's session or the tenant's admin token (`chalicelib.auth.admin_access`).
"""
from __future__ import annotations

import os

from chalice import Response

from chalicelib.auth import admin_access
from chalicelib.core import config
from chalicelib.followers import reconcile
from chalicelib.handlers import sqs
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.store.queues import FOLLOWERS
from chalicelib.sync.run import Deadline

bp = ApiBlueprint(__name__)


@bp.route("/api/admin/tenants/{tenantKey}/wechat/followers/reconcile", methods=["POST"])
def start_reconcile(tenantKey: str) -> Response:
    tenant = admin_access.admin_tenant(tenantKey, bp.current_request.headers)
    return Response(body={"runId": reconcile.start(tenant, "admin"), "status": "queued"}, status_code=202)


@bp.route("/api/admin/tenants/{tenantKey}/wechat/followers/reconcile", methods=["GET"])
def latest_reconcile(tenantKey: str) -> dict:
    return reconcile.describe(admin_access.admin_tenant(tenantKey, bp.current_request.headers))


@bp.on_sqs_message(queue=config.resource_name(FOLLOWERS.logical_name), batch_size=FOLLOWERS.batch_size)
def process_followers(event) -> dict:
    deadline = Deadline.of_context(event.context)
    return sqs.consume(event, FOLLOWERS.logical_name, lambda body: reconcile.process(body, deadline),
                       FOLLOWERS.max_receive_count)


@bp.schedule(os.environ.get("YQ_FOLLOWERS_SCHEDULE", "rate(1 day)"), name="schedule_followers")
def schedule_followers(event) -> dict:
    return {"started": reconcile.schedule_all()}
