"""Messages between external contacts and members (chalicelib.messages.threads):

    GET  /api/external/liaisons                                   the contact's 对接人 with their threads' state
    GET  /api/external/liaisons/{userId}/messages?cursor=&limit=  the thread with one of them (older pages by cursor)
    POST /api/external/liaisons/{userId}/messages  {text}         write to them (201); a WeCom card tells them
    GET  /api/messages/threads?cursor=&limit=                     the member's threads, the latest message first
    GET  /api/directory/contacts/{contactId}/messages?cursor=&limit=   the member's thread with a contact
    POST /api/directory/contacts/{contactId}/messages  {text}     write to the contact (201); the official account
                                                                  tells them
Contact routes take contact sessions, the others member sessions; the tenant is the session's. Too many messages is a
429 `too_many_messages` with Retry-After.
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.core import paging
from chalicelib.handlers.accounts import current_contact
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import current_member, json_body
from chalicelib.messages import threads

bp = ApiBlueprint(__name__)


def _params() -> dict:
    return bp.current_request.query_params or {}


def _limit(default: int, maximum: int) -> int:
    return paging.page_size(_params().get("limit"), default=default, maximum=maximum)


@bp.route("/api/external/liaisons", methods=["GET"])
def liaisons() -> dict:
    return threads.liaisons(current_contact(bp.current_request))


@bp.route("/api/external/liaisons/{userId}/messages", methods=["GET"])
def contact_thread(userId: str) -> dict:
    caller = current_contact(bp.current_request)
    limit = _limit(threads.PAGE_DEFAULT, threads.PAGE_MAX)
    return threads.contact_thread(caller, unquote(userId), _params().get("cursor"), limit)


@bp.route("/api/external/liaisons/{userId}/messages", methods=["POST"])
def contact_writes(userId: str) -> Response:
    request = bp.current_request
    caller = current_contact(request)
    return Response(body=threads.from_contact(caller, unquote(userId), json_body(request)), status_code=201)


@bp.route("/api/messages/threads", methods=["GET"])
def inbox() -> dict:
    caller = current_member(bp.current_request)
    return threads.inbox(caller, _params().get("cursor"), _limit(threads.INBOX_DEFAULT, threads.INBOX_MAX))


@bp.route("/api/directory/contacts/{contactId}/messages", methods=["GET"])
def member_thread(contactId: str) -> dict:
    caller = current_member(bp.current_request)
    limit = _limit(threads.PAGE_DEFAULT, threads.PAGE_MAX)
    return threads.member_thread(caller, unquote(contactId), _params().get("cursor"), limit)


@bp.route("/api/directory/contacts/{contactId}/messages", methods=["POST"])
def member_writes(contactId: str) -> Response:
    request = bp.current_request
    caller = current_member(request)
    return Response(body=threads.from_member(caller, unquote(contactId), json_body(request)), status_code=201)
