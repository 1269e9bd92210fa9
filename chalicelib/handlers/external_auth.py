"""External sign-in through OAuth (the login form and activation are `handlers/accounts.py`):

    GET  /api/external/login-options?tenantKey=            the tenant's name and the OAuth pages to send a visitor to
    POST /api/external/session/wechat  {tenantKey, code}   official-account OAuth → the contact with that unionid (201)
    POST /api/external/session/wecom   {tenantKey, code}   WeCom OAuth → the contact `wx-<external_userid>` (201)
A visitor matching no synced contact of the tenant gets 404 `no_contact` (the page then shows the login form).
"""
from __future__ import annotations

from chalice import Response

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import json_body
from chalicelib.auth import external

bp = ApiBlueprint(__name__)


@bp.route("/api/external/login-options", methods=["GET"])
def login_options() -> dict:
    return external.login_options((bp.current_request.query_params or {}).get("tenantKey") or "")


@bp.route("/api/external/session/wechat", methods=["POST"])
def sign_in_wechat() -> Response:
    body = json_body(bp.current_request)
    answer = external.sign_in_wechat(str(body.get("tenantKey") or ""), str(body.get("code") or ""))
    return Response(body=answer, status_code=201)


@bp.route("/api/external/session/wecom", methods=["POST"])
def sign_in_wecom() -> Response:
    body = json_body(bp.current_request)
    answer = external.sign_in_wecom(str(body.get("tenantKey") or ""), str(body.get("code") or ""))
    return Response(body=answer, status_code=201)
