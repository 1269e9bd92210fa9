"""Sessions over HTTP: signing members in through WeCom OAuth, who-am-I, sign-out, and the helpers every
session-authenticated route uses to know its caller.

    GET    /api/auth/wecom/authorize-url?tenantKey=&redirectUri=   where to send a member to sign in
    POST   /api/auth/wecom/session   {tenantKey, code}               a member session (201)
    GET    /api/auth/session                                         the caller behind the bearer token
    DELETE /api/auth/session                                         sign out: the token stops working (204)

Tokens travel as `Authorization: Bearer <token>`. Session-authenticated routes take their tenant from the session,
never from the URL, so an id from another tenant can only ever be looked up in the caller's own tenant (404).
"""
from __future__ import annotations

from chalice import Response

from chalicelib.core.errors import BadRequest, Unauthorized
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.core.lazy import lazy_module
from chalicelib.core.observability import bind_tenant

identity = lazy_module("chalicelib.auth.identity")
sessions = lazy_module("chalicelib.auth.sessions")
tenants = lazy_module("chalicelib.store.tenants")

bp = ApiBlueprint(__name__)


def current_session(request, kind: str | None = None) -> sessions.SessionInfo:
    """The live session of the request (401 otherwise), of `kind` when given, in an enabled tenant."""
    session = sessions.resolve(sessions.bearer_token(request.headers))
    if session is None:
        raise Unauthorized("sign in first: the session is missing, expired or revoked", code="invalid_session")
    if kind is not None and session.kind != kind:
        raise Unauthorized(f"this route needs a {kind} session", code=f"{kind}_session_required")
    tenants.get_enabled_recent(session.tenant_key)
    bind_tenant(session.tenant_key)
    return session


def current_member(request) -> identity.Caller:
    return identity.member_caller(current_session(request, sessions.MEMBER))


def json_body(request) -> dict:
    body = request.json_body if request.raw_body else {}
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_body")
    return body


@bp.route("/api/auth/wecom/authorize-url", methods=["GET"])
def authorize_url() -> dict:
    params = bp.current_request.query_params or {}
    tenant = tenants.get_enabled(params.get("tenantKey") or "")
    redirect = params.get("redirectUri") or ""
    if not redirect.startswith(("https://", "http://")):
        raise BadRequest("redirectUri must be an absolute http(s) URL", code="invalid_redirect")
    return {"url": identity.authorize_url(tenant, redirect)}


@bp.route("/api/auth/wecom/session", methods=["POST"])
def create_member_session() -> Response:
    body = json_body(bp.current_request)
    tenant = tenants.get_enabled(str(body.get("tenantKey") or ""))
    bind_tenant(tenant.tenant_key)
    issued, member = identity.sign_in_member(tenant, str(body.get("code") or ""))
    return Response(body={"token": issued.token, "expiresAt": issued.expires_at, "member": member}, status_code=201)


@bp.route("/api/auth/session", methods=["GET"])
def who_am_i() -> dict:
    session = current_session(bp.current_request)
    if session.kind == sessions.MEMBER:
        return {"kind": session.kind, "expiresAt": session.expires_at,
                "member": identity.describe_member(identity.member_caller(session))}
    return {"kind": session.kind, "expiresAt": session.expires_at, "tenantKey": session.tenant_key,
            "contactId": session.subject}


@bp.route("/api/auth/session", methods=["DELETE"])
def sign_out() -> Response:
    sessions.revoke(current_session(bp.current_request))
    return Response(body="", status_code=204)
