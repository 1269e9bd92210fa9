"""`GET /healthz`: is the app answering? And, for an operator, is every table this deployment uses reachable?

The public answer is `{"status": "ok"}` and costs nothing: no DynamoDB call, no table names. With `?tenantKey=` and
that tenant's admin credential (the `X-Yunqiao-Admin-Token` header or an admin's session) it checks every table
(one DescribeTable each) and answers 503 when one is not ACTIVE.
"""
from __future__ import annotations

from chalice import Response

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.auth import admin_access
from chalicelib.store import tables

bp = ApiBlueprint(__name__)


@bp.route("/healthz", methods=["GET"])
def healthz() -> Response:
    request = bp.current_request
    tenant_key = (request.query_params or {}).get("tenantKey")
    if tenant_key is None:
        return Response(body={"status": "ok"}, status_code=200)
    admin_access.admin_tenant(tenant_key, request.headers)
    states = {}
    for model in tables.all_models():
        try:
            states[model.Meta.table_name] = "ACTIVE" if model.exists() else "missing"
        except Exception as err:  # reachability is the answer here, whatever the failure
            states[model.Meta.table_name] = f"unreachable: {type(err).__name__}"
    healthy = all(state == "ACTIVE" for state in states.values())
    return Response(body={"status": "ok" if healthy else "degraded", "tables": states},
                    status_code=200 if healthy else 503)
