"""Invitations over HTTP (see `chalicelib.invitations`).

WeChat-friend invitation links (member sessions):
    POST   /api/directory/invitations                           {organisationId?, departmentId?, note?, expiresInDays?}
    GET    /api/directory/invitations?cursor=&limit=             the caller's links, newest first
    GET    /api/directory/invitations/{invitationId}
    DELETE /api/directory/invitations/{invitationId}             withdraw an unused link
    GET    /api/directory/invitations/{invitationId}/qrcode.png  the link's QR code (send `Accept: image/png`)
The person invited (public, no session; the signed token is the credential):
    GET    /api/invitations/preview?tenantKey=&token=            the inviting team's and member's names, and the
                                                                 official account's OAuth page (+ state cookie)
    POST   /api/invitations/wechat-identity {tenantKey, token, code, state}   the WeChat that opened it (201)
    POST   /api/invitations/accept     {tenantKey, token, name, mobile?, email?, position?, wechat?}   (201; with
                                       `wechat`, the new contact carries it and the answer a contact session)
Add from another organisation (member sessions):
    POST   /api/directory/org-members/search                     {organisation, name | mobile | email}
    POST   /api/directory/org-invitations                        {candidate, note?, organisationId?, departmentId?}
    GET    /api/directory/org-invitations?direction=incoming|outgoing&cursor=&limit=
    POST   /api/directory/org-invitations/{invitationId}/accept  {organisationId?, departmentId?}
    POST   /api/directory/org-invitations/{invitationId}/decline
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.core import paging
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.auth import oauth_state
from chalicelib.handlers.auth import current_member, json_body, oauth_exchange
from chalicelib.invitations import organisations, wechat
from chalicelib.invitations import search as org_search
from chalicelib.core.observability import bind_tenant

bp = ApiBlueprint(__name__)


def _params() -> dict:
    return dict(bp.current_request.query_params or {})




# --- WeChat-friend invitation links -----------------------------------------------------------------------------
@bp.route("/api/directory/invitations", methods=["POST"])
def create_invitation() -> Response:
    caller = current_member(bp.current_request)
    return Response(body=wechat.create(caller, json_body(bp.current_request)), status_code=201)


@bp.route("/api/directory/invitations", methods=["GET"])
def list_invitations() -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    limit = paging.page_size(params.get("limit"), default=wechat.PAGE_DEFAULT, maximum=wechat.PAGE_MAX)
    return wechat.list_mine(caller, params.get("cursor"), limit)


@bp.route("/api/directory/invitations/{invitationId}", methods=["GET"])
def get_invitation(invitationId: str) -> dict:
    return wechat.get_mine(current_member(bp.current_request), unquote(invitationId))


@bp.route("/api/directory/invitations/{invitationId}", methods=["DELETE"])
def revoke_invitation(invitationId: str) -> dict:
    return wechat.revoke(current_member(bp.current_request), unquote(invitationId))


@bp.route("/api/directory/invitations/{invitationId}/qrcode.png", methods=["GET"])
def invitation_qr_code(invitationId: str) -> Response:
    """image/png is one of Chalice's binary types: the body goes out base64-encoded with isBase64Encoded, which
    API Gateway turns back into bytes for a request that accepts image/png."""
    png = wechat.qr_code(current_member(bp.current_request), unquote(invitationId))
    return Response(body=png, status_code=200, headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


@bp.route("/api/invitations/preview", methods=["GET"])
def preview_invitation() -> Response:
    params = _params()
    bind_tenant(params.get("tenantKey"))
    visit = oauth_state.begin()
    return Response(body=wechat.preview(params.get("tenantKey"), params.get("token"), visit), status_code=200,
                    headers={"Set-Cookie": visit.set_cookie})


@bp.route("/api/invitations/wechat-identity", methods=["POST"])
def invitation_wechat_identity() -> Response:
    def exchange(body: dict) -> dict:
        bind_tenant(body.get("tenantKey") if isinstance(body.get("tenantKey"), str) else None)
        return wechat.identify(body.get("tenantKey"), body.get("token"), str(body.get("code") or ""))

    return oauth_exchange(bp.current_request, oauth_state.INVITE, exchange)


@bp.route("/api/invitations/accept", methods=["POST"])
def accept_invitation() -> Response:
    body = json_body(bp.current_request)
    bind_tenant(body.get("tenantKey") if isinstance(body.get("tenantKey"), str) else None)
    return Response(body=wechat.accept(body), status_code=201)


# --- add from another organisation -------------------------------------------------------------------------------
@bp.route("/api/directory/org-members/search", methods=["POST"])
def search_org_members() -> dict:
    return org_search.search(current_member(bp.current_request), json_body(bp.current_request))


@bp.route("/api/directory/org-invitations", methods=["POST"])
def send_org_invitation() -> Response:
    caller = current_member(bp.current_request)
    return Response(body=organisations.send(caller, json_body(bp.current_request)), status_code=201)


@bp.route("/api/directory/org-invitations", methods=["GET"])
def list_org_invitations() -> dict:
    caller = current_member(bp.current_request)
    params = _params()
    limit = paging.page_size(params.get("limit"), default=organisations.PAGE_DEFAULT, maximum=organisations.PAGE_MAX)
    return organisations.list_invitations(caller, params.get("direction"), params.get("cursor"), limit)


@bp.route("/api/directory/org-invitations/{invitationId}/accept", methods=["POST"])
def accept_org_invitation(invitationId: str) -> dict:
    caller = current_member(bp.current_request)
    return organisations.accept(caller, unquote(invitationId), json_body(bp.current_request))


@bp.route("/api/directory/org-invitations/{invitationId}/decline", methods=["POST"])
def decline_org_invitation(invitationId: str) -> dict:
    return organisations.decline(current_member(bp.current_request), unquote(invitationId))
