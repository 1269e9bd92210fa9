"""Sharing, for internal members (the eteams modules and the WeCom chat toolbar; member sessions) and the modules
themselves (the team's service key, for registering items only):

    PUT    /api/sharing/items/{kind}/{itemId}                          register or update an item (201 new, 200):
                                                                       a member their own items, the item's module
                                                                       any (the team's service key)
    GET    /api/sharing/items/{kind}/{itemId}                          the item (its owner and members)
    DELETE /api/sharing/items/{kind}/{itemId}                          an admin deletes it from every home (204)
    PUT    /api/sharing/items/{kind}/{itemId}/owner  {ownerId}          an admin gives it to another member
    POST   /api/admin/tenants/{tenantKey}/service-key                   issue or rotate the team's service key (201)
    POST   /api/sharing/items/{kind}/{itemId}/shares   {contactId}     make a contact a sharer (201 new, 200 again)
    GET    /api/sharing/items/{kind}/{itemId}/shares                   its sharers
    DELETE /api/sharing/items/{kind}/{itemId}/shares/{contactId}       unshare (204)
    POST   /api/sharing/items/{kind}/{itemId}/comments {contactId, text}  reply to a contact (201)
    GET    /api/sharing/items/{kind}/{itemId}/comments?contactId=      the conversation with one contact
    GET    /api/sharing/items/form/{itemId}/submissions?cursor=&limit= a form's submissions
    POST   /api/sharing/send  {externalUserId | contactId | corpId+userId, kind, itemId, mode?, recordId?}
                                                                       send to the chat's contact (201), with the card
    PUT    /api/sharing/bindings/{externalUserId}  {projectIds, crmCustomerId}   bind the chat's customer
    GET    /api/sharing/bindings/{externalUserId}                       the binding
    GET    /api/sharing/bindings/{externalUserId}/projects              bound and shared projects
    GET    /api/sharing/toolbar/register-config?url=                   what the toolbar page gives ww.register
    POST   /api/sharing/toolbar/contact {externalUserId | corpId+userId | contactId}   the chat's contact: who, shared
    GET    /api/sharing/toolbar/group-chats/{chatId}                   a customer group's customers
    GET    /api/sharing/toolbar/contacts/{contactId}/projects          the three project tabs
    PUT    /api/sharing/toolbar/contacts/{contactId}/binding           bind a (resolved) contact
    GET    /api/sharing/toolbar/my-items?kind=                         the caller's items of a kind, to send
The rules are in `chalicelib.sharing.items` and, for the chat toolbar (send, bindings), `chalicelib.sharing.toolbar`.
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.core import paging
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import current_member, json_body
from chalicelib.auth import admin_access, service_keys
from chalicelib.core.observability import bind_tenant
from chalicelib.sharing import items, jssdk, toolbar

bp = ApiBlueprint(__name__)


@bp.route("/api/sharing/items/{kind}/{itemId}", methods=["PUT"])
def register_item(kind: str, itemId: str) -> Response:
    """A member's session, or the team's service key (`Authorization: Service <key>`) of the item's own module."""
    request = bp.current_request
    key = service_keys.presented(request.headers)
    if key is not None:
        tenant = service_keys.service_tenant(key)
        bind_tenant(tenant.tenant_key)
        item, created = items.register_for_integration(tenant, unquote(kind), unquote(itemId), json_body(request))
    else:
        item, created = items.register(current_member(request), unquote(kind), unquote(itemId), json_body(request))
    return Response(body=item, status_code=201 if created else 200)


@bp.route("/api/sharing/items/{kind}/{itemId}", methods=["DELETE"])
def delete_item(kind: str, itemId: str) -> Response:
    items.delete_item(current_member(bp.current_request), unquote(kind), unquote(itemId))
    return Response(body="", status_code=204)


@bp.route("/api/sharing/items/{kind}/{itemId}/owner", methods=["PUT"])
def reclaim_item(kind: str, itemId: str) -> dict:
    request = bp.current_request
    return items.reclaim(current_member(request), unquote(kind), unquote(itemId), json_body(request))


@bp.route("/api/admin/tenants/{tenantKey}/service-key", methods=["POST"])
def issue_service_key(tenantKey: str) -> Response:
    """Issue the team's service key, replacing the previous one (shown once; only its hash is kept)."""
    tenant = admin_access.admin_tenant(tenantKey, bp.current_request.headers)
    key, issued_at = service_keys.issue(tenant)
    return Response(body={"serviceKey": key, "issuedAt": issued_at.isoformat()}, status_code=201,
                    headers={"Cache-Control": "no-store"})


@bp.route("/api/sharing/items/{kind}/{itemId}", methods=["GET"])
def get_item(kind: str, itemId: str) -> dict:
    return items.open_item(current_member(bp.current_request), unquote(kind), unquote(itemId))


@bp.route("/api/sharing/items/{kind}/{itemId}/shares", methods=["POST"])
def share_item(kind: str, itemId: str) -> Response:
    request = bp.current_request
    body = json_body(request)
    share, created = items.share_with(current_member(request), unquote(kind), unquote(itemId),
                                      str(body.get("contactId") or ""))
    return Response(body=share, status_code=201 if created else 200)


@bp.route("/api/sharing/items/{kind}/{itemId}/shares", methods=["GET"])
def list_shares(kind: str, itemId: str) -> dict:
    return {"shares": items.list_shares(current_member(bp.current_request), unquote(kind), unquote(itemId))}


@bp.route("/api/sharing/items/{kind}/{itemId}/shares/{contactId}", methods=["DELETE"])
def unshare_item(kind: str, itemId: str, contactId: str) -> Response:
    items.unshare(current_member(bp.current_request), unquote(kind), unquote(itemId), unquote(contactId))
    return Response(body="", status_code=204)


@bp.route("/api/sharing/items/{kind}/{itemId}/comments", methods=["POST"])
def reply(kind: str, itemId: str) -> Response:
    request = bp.current_request
    return Response(body=items.reply(current_member(request), unquote(kind), unquote(itemId), json_body(request)),
                    status_code=201)


@bp.route("/api/sharing/items/{kind}/{itemId}/comments", methods=["GET"])
def conversation(kind: str, itemId: str) -> dict:
    request = bp.current_request
    contact_id = (request.query_params or {}).get("contactId") or ""
    return items.conversation(current_member(request), unquote(kind), unquote(itemId), contact_id)


@bp.route("/api/sharing/items/form/{itemId}/submissions", methods=["GET"])
def submissions(itemId: str) -> dict:
    request = bp.current_request
    params = request.query_params or {}
    limit = paging.page_size(params.get("limit"), default=items.SUBMISSIONS_PAGE, maximum=items.SUBMISSIONS_MAX)
    return items.submissions(current_member(request), unquote(itemId), params.get("cursor"), limit)


@bp.route("/api/sharing/send", methods=["POST"])
def send() -> Response:
    request = bp.current_request
    return Response(body=toolbar.send_to_contact(current_member(request), json_body(request)), status_code=201)


@bp.route("/api/sharing/bindings/{externalUserId}", methods=["PUT"])
def bind(externalUserId: str) -> dict:
    request = bp.current_request
    return toolbar.bind(current_member(request), unquote(externalUserId), json_body(request))


@bp.route("/api/sharing/bindings/{externalUserId}", methods=["GET"])
def binding(externalUserId: str) -> dict:
    return toolbar.binding(current_member(bp.current_request), unquote(externalUserId))


@bp.route("/api/sharing/bindings/{externalUserId}/projects", methods=["GET"])
def bound_projects(externalUserId: str) -> dict:
    return toolbar.bound_projects(current_member(bp.current_request), unquote(externalUserId))


@bp.route("/api/sharing/toolbar/register-config", methods=["GET"])
def register_config() -> Response:
    request = bp.current_request
    config = jssdk.register_config(current_member(request), (request.query_params or {}).get("url") or "")
    return Response(body=config, status_code=200, headers={"Cache-Control": "no-store"})


@bp.route("/api/sharing/toolbar/contact", methods=["POST"])
def toolbar_contact() -> dict:
    request = bp.current_request
    return toolbar.contact_card(current_member(request), json_body(request))


@bp.route("/api/sharing/toolbar/group-chats/{chatId}", methods=["GET"])
def toolbar_group_chat(chatId: str) -> dict:
    return toolbar.group_chat(current_member(bp.current_request), unquote(chatId))


@bp.route("/api/sharing/toolbar/contacts/{contactId}/projects", methods=["GET"])
def toolbar_projects(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    return toolbar.project_view(caller, toolbar.contact_of(caller, {"contactId": unquote(contactId)}))


@bp.route("/api/sharing/toolbar/contacts/{contactId}/binding", methods=["PUT"])
def toolbar_bind(contactId: str) -> dict:
    request = bp.current_request
    caller = current_member(request)
    return toolbar.bind_contact(caller, toolbar.contact_of(caller, {"contactId": unquote(contactId)}),
                                json_body(request))


@bp.route("/api/sharing/toolbar/my-items", methods=["GET"])
def toolbar_my_items() -> dict:
    request = bp.current_request
    kind = (request.query_params or {}).get("kind") or "project"
    return {"items": toolbar.own_items(current_member(request), kind)}
