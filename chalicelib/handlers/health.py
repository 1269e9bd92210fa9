"""`GET /healthz`: is every table this deployment uses reachable?"""
from __future__ import annotations

from chalice import Response

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.store.tables import all_models

bp = ApiBlueprint(__name__)


@bp.route("/healthz", methods=["GET"])
def healthz() -> Response:
    tables = {}
    for model in all_models():
        try:
            tables[model.Meta.table_name] = "ACTIVE" if model.exists() else "missing"
        except Exception as err:  # reachability is the answer here, whatever the failure
            tables[model.Meta.table_name] = f"unreachable: {type(err).__name__}"
    healthy = all(state == "ACTIVE" for state in tables.values())
    return Response(body={"status": "ok" if healthy else "degraded", "tables": tables}, status_code=200 if healthy else 503)
