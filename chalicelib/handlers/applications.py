"""Account-opening applications over HTTP (member sessions; see `chalicelib.accounts.applications`).

    POST /api/directory/contacts/{contactId}/account-applications  {remark}   apply (201)
    POST /api/account-applications/{applicationId}/approve                   approve and open the account
    POST /api/account-applications/{applicationId}/reject           {reason}  reject
    GET  /api/account-applications?status=&applicant=&approver=&from=&to=&cursor=&limit=   the back office list
    GET  /api/account-applications/{applicationId}                            one application with its history
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import current_member, json_body
from chalicelib.accounts import applications
from chalicelib.store import tenants

bp = ApiBlueprint(__name__)


@bp.route("/api/directory/contacts/{contactId}/account-applications", methods=["POST"])
def apply(contactId: str) -> Response:
    caller = current_member(bp.current_request)
    body = json_body(bp.current_request)
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    return Response(body=applications.apply(tenant, caller, unquote(contactId), body.get("remark")), status_code=201)


@bp.route("/api/account-applications/{applicationId}/approve", methods=["POST"])
def approve(applicationId: str) -> dict:
    caller = current_member(bp.current_request)
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    return applications.approve(tenant, caller, unquote(applicationId))


@bp.route("/api/account-applications/{applicationId}/reject", methods=["POST"])
def reject(applicationId: str) -> dict:
    caller = current_member(bp.current_request)
    body = json_body(bp.current_request)
    tenant = tenants.get_enabled_recent(caller.tenant_key)
    return applications.reject(tenant, caller, unquote(applicationId), body.get("reason"))


@bp.route("/api/account-applications", methods=["GET"])
def list_applications() -> dict:
    caller = current_member(bp.current_request)
    return applications.list_applications(caller, dict(bp.current_request.query_params or {}))


@bp.route("/api/account-applications/{applicationId}", methods=["GET"])
def get_application(applicationId: str) -> dict:
    caller = current_member(bp.current_request)
    return applications.get_application(caller, unquote(applicationId))
