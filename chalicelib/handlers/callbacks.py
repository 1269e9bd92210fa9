"""WeCom's callback URLs (the exact paths admins paste into the WeCom console); `callback_queue` applies the events.

    GET/POST /wecom/callback/{tenantKey}       a self-built app's callbacks
    GET/POST /wecom/suite/{suiteId}/callback   the third-party suite's instruction and data callbacks
    GET/POST /wechat/callback/{tenantKey}      the tenant's WeChat official account (服务器配置, 安全模式): follows,
                                               unfollows, scans

These routes are the `api_callbacks` function (chalicelib.entries): this module imports what taking an event in needs
and nothing of what applying it needs, which is the consumer's.
"""
from __future__ import annotations

from chalice import Response

from chalicelib.core.errors import UnsupportedMediaType
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.callbacks import intake

bp = ApiBlueprint(__name__)
XML_TYPES = ("text/xml", "application/xml")


def _text(body: str) -> Response:
    """WeCom compares the body byte for byte: no quotes, no newline."""
    return Response(body=body, status_code=200, headers={"Content-Type": "text/plain; charset=utf-8"})


def _xml_body() -> bytes:
    request = bp.current_request
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type not in XML_TYPES:
        raise UnsupportedMediaType(f"send text/xml or application/xml, not {content_type}")
    return request.raw_body or b""


@bp.route("/wecom/callback/{tenantKey}", methods=["GET"])
def verify_tenant_url(tenantKey: str) -> Response:
    query = intake.signed_query(bp.current_request.query_params, with_echostr=True)
    return _text(intake.verify_tenant_url(tenantKey, query))


@bp.route("/wecom/callback/{tenantKey}", methods=["POST"], content_types=["*/*"])
def tenant_callback(tenantKey: str) -> Response:
    query = intake.signed_query(bp.current_request.query_params)
    intake.accept_tenant_event(tenantKey, query, _xml_body())
    return _text(intake.SUITE_REPLY)


@bp.route("/wecom/suite/{suiteId}/callback", methods=["GET"])
def verify_suite_url(suiteId: str) -> Response:
    query = intake.signed_query(bp.current_request.query_params, with_echostr=True)
    return _text(intake.verify_suite_url(suiteId, query))


@bp.route("/wecom/suite/{suiteId}/callback", methods=["POST"], content_types=["*/*"])
def suite_callback(suiteId: str) -> Response:
    query = intake.signed_query(bp.current_request.query_params)
    intake.accept_suite_event(suiteId, query, _xml_body())
    return _text(intake.SUITE_REPLY)


@bp.route("/wechat/callback/{tenantKey}", methods=["GET"])
def verify_official_account_url(tenantKey: str) -> Response:
    check = intake.official_account_check(bp.current_request.query_params)
    return _text(intake.verify_official_account_url(tenantKey, check))


@bp.route("/wechat/callback/{tenantKey}", methods=["POST"], content_types=["*/*"])
def official_account_callback(tenantKey: str) -> Response:
    query = intake.official_account_query(bp.current_request.query_params)
    intake.accept_official_account_event(tenantKey, query, _xml_body())
    return _text(intake.SUITE_REPLY)

