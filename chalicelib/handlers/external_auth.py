"""External sign-in through OAuth (the login form and activation are `handlers/accounts.py`):

    GET  /api/external/login-options?tenantKey=                   the tenant's name and the OAuth pages to send a
                                                                  visitor to (+ the round trip's state cookie)
    POST /api/external/session/wechat  {tenantKey, code, state}   official-account OAuth → the contact with that
                                                                  unionid (201)
    POST /api/external/session/wecom   {tenantKey, code, state}   WeCom OAuth → the contact `wx-<external_userid>`
A visitor matching no synced contact of the tenant gets 404 `no_contact` (the page then shows the login form); a
state not begun in this browser 403 `invalid_state` (`chalicelib.auth.oauth_state`).
"""
from __future__ import annotations

from chalice import Response

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import oauth_exchange
from chalicelib.auth import external, oauth_state

bp = ApiBlueprint(__name__)


@bp.route("/api/external/login-options", methods=["GET"])
def login_options() -> Response:
    visit = oauth_state.begin()
    options = external.login_options((bp.current_request.query_params or {}).get("tenantKey") or "", visit)
    return Response(body=options, status_code=200, headers={"Set-Cookie": visit.set_cookie})


@bp.route("/api/external/session/wechat", methods=["POST"])
def sign_in_wechat() -> Response:
    return oauth_exchange(bp.current_request, oauth_state.WECHAT, lambda body: external.sign_in_wechat(
        str(body.get("tenantKey") or ""), str(body.get("code") or "")))


@bp.route("/api/external/session/wecom", methods=["POST"])
def sign_in_wecom() -> Response:
    return oauth_exchange(bp.current_request, oauth_state.WECOM, lambda body: external.sign_in_wecom(
        str(body.get("tenantKey") or ""), str(body.get("code") or "")))
