"""The external contact's home API (与我协作; contact sessions):

    GET  /api/external/home                                          counts and newest items per kind and section
    GET  /api/external/items?kind=|section=&cursor=&limit=           a list, newest shared first
    GET  /api/external/items/{kind}/{itemId}                         one item with the conversation about it
    POST /api/external/items/{kind}/{itemId}/comments   {text}       write to the company (201)
    POST /api/external/items/{kind}/{itemId}/submissions {values}    fill in a shared form (201)
Anything not shared with the caller answers 404 `item_not_found`, and so does an item of an app the tenant closed to
external users (a list of closed kinds only: 404 `app_closed`); the home leaves closed apps' sections out. The home
authenticates through `chalicelib.home.feed.home_caller`, which reads the contact and account in one request with the
summary, the tenant's app choice (and the tenant, unless this process read it within the minute), checks the tenant is
enabled and holds the contact and account to `accounts.service.check_contact_session`; the other routes use the
accounts helper's `current_contact`,
which reads them itself and holds them to the same rules.
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.handlers.accounts import current_contact
from chalicelib.core import paging
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.core.observability import bind_tenant
from chalicelib.handlers.auth import json_body, live_session
from chalicelib.auth import sessions
from chalicelib.home import feed

bp = ApiBlueprint(__name__)


@bp.route("/api/external/home", methods=["GET"])
def home() -> dict:
    session = live_session(bp.current_request, sessions.CONTACT)
    bind_tenant(session.tenant_key)
    return feed.home(*feed.home_caller(session))


@bp.route("/api/external/items", methods=["GET"])
def list_items() -> dict:
    request = bp.current_request
    caller = current_contact(request)
    params = request.query_params or {}
    wanted = feed.requested_kinds(params.get("kind"), params.get("section"))
    limit = paging.page_size(params.get("limit"), default=feed.PAGE_DEFAULT, maximum=feed.PAGE_MAX)
    return feed.list_items(caller, wanted, params.get("cursor"), limit)


@bp.route("/api/external/items/{kind}/{itemId}", methods=["GET"])
def item_detail(kind: str, itemId: str) -> dict:
    return feed.detail(current_contact(bp.current_request), unquote(kind), unquote(itemId))


@bp.route("/api/external/items/{kind}/{itemId}/comments", methods=["POST"])
def comment(kind: str, itemId: str) -> Response:
    request = bp.current_request
    caller = current_contact(request)
    return Response(body=feed.comment(caller, unquote(kind), unquote(itemId), json_body(request)), status_code=201)


@bp.route("/api/external/items/{kind}/{itemId}/submissions", methods=["POST"])
def submit(kind: str, itemId: str) -> Response:
    request = bp.current_request
    caller = current_contact(request)
    return Response(body=feed.submit(caller, unquote(kind), unquote(itemId), json_body(request)), status_code=201)
