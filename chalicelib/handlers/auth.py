"""Sessions over HTTP: signing members in through WeCom OAuth, who-am-I, sign-out, and the helpers every
session-authenticated route uses to know its caller.

    GET    /api/auth/wecom/authorize-url?tenantKey=&redirectUri=&login=   where to send a member to sign in
                                                  (+ state cookie): login=oauth (default) inside WeCom, login=qr for a
                                                  desktop browser
    POST   /api/auth/wecom/session   {tenantKey, code, state}        a member session (201)
    GET    /api/auth/session                                         the caller behind the bearer token (a member:
                                                  also the organisations they may switch to, `外部` where they are an
                                                  external contact)
    DELETE /api/auth/session                                         sign out: the token stops working (204)
    GET    /api/auth/wechat-binding/authorize-url?redirectUri=       a member binds their own WeChat: the official
                                                  account's OAuth page (+ state cookie)
    POST   /api/auth/wechat-binding   {code, state}                  bind it (201): the sync skips that WeChat

Tokens travel as `Authorization: Bearer <token>`. Session-authenticated routes take their tenant from the session,
never from the URL, so an id from another tenant can only ever be looked up in the caller's own tenant (404).
Every OAuth sign-in (members here, contacts in `external_auth`) is a round trip bound to the browser that began it
(`chalicelib.auth.oauth_state`): the authorize-URL route sets the state cookie, `oauth_exchange` checks it first.
"""
from __future__ import annotations

from typing import Callable

from chalice import Response

from chalicelib.auth import identity, member_wechat, oauth_state, organisations, sessions
from chalicelib.core.errors import AppError, BadRequest, Unauthorized
from chalicelib.core.observability import bind_tenant
from chalicelib.handlers.api import ApiBlueprint, refused
from chalicelib.store import tenants

bp = ApiBlueprint(__name__)


def live_session(request, kind: str | None = None) -> sessions.SessionInfo:
    """The live session of the request (401 otherwise), of `kind` when given; its tenant is not checked yet — the
    caller does, as `current_session` does (the home reads the tenant with its other items)."""
    session = sessions.resolve(sessions.bearer_token(request.headers))
    if session is None:
        raise Unauthorized("sign in first: the session is missing, expired or revoked", code="invalid_session")
    if kind is not None and session.kind != kind:
        raise Unauthorized(f"this route needs a {kind} session", code=f"{kind}_session_required")
    return session


def current_session(request, kind: str | None = None) -> sessions.SessionInfo:
    """The live session of the request (401 otherwise), of `kind` when given, in an enabled tenant."""
    session = live_session(request, kind)
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


def oauth_exchange(request, door: str, exchange: Callable[[dict], dict]) -> Response:
    """Exchange an OAuth code: the round trip's state checked before anything else, 201 with `exchange(body)`; every
    answer, refusals included, clears the state cookie, so a state serves one exchange."""
    clear = {"Set-Cookie": oauth_state.clear_cookie()}
    try:
        body = json_body(request)
        oauth_state.check(door, body.get("state"), request.headers)
        return Response(body=exchange(body), status_code=201, headers=clear)
    except AppError as err:
        response = refused(err)
        response.headers.update(clear)
        return response


@bp.route("/api/auth/wecom/authorize-url", methods=["GET"])
def authorize_url() -> Response:
    params = bp.current_request.query_params or {}
    tenant = tenants.get_enabled(params.get("tenantKey") or "")
    redirect = oauth_state.check_redirect(tenant, params.get("redirectUri") or "")
    login = params.get("login") or "oauth"
    if login not in ("oauth", "qr"):
        raise BadRequest("login must be oauth or qr", code="invalid_login")
    visit = oauth_state.begin()
    state = visit.state(oauth_state.MEMBER)
    build = oauth_state.wecom_qr_login_url if login == "qr" else oauth_state.wecom_authorize_url
    return Response(body={"url": build(tenant, redirect, state), "state": state},
                    status_code=200, headers={"Set-Cookie": visit.set_cookie})


@bp.route("/api/auth/wecom/session", methods=["POST"])
def create_member_session() -> Response:
    def exchange(body: dict) -> dict:
        tenant = tenants.get_enabled(str(body.get("tenantKey") or ""))
        bind_tenant(tenant.tenant_key)
        issued, member = identity.sign_in_member(tenant, str(body.get("code") or ""))
        return {"token": issued.token, "expiresAt": issued.expires_at, "member": member}

    return oauth_exchange(bp.current_request, oauth_state.MEMBER, exchange)


@bp.route("/api/auth/session", methods=["GET"])
def who_am_i() -> dict:
    session = current_session(bp.current_request)
    if session.kind == sessions.MEMBER:
        caller = identity.member_caller(session)
        return {"kind": session.kind, "expiresAt": session.expires_at, "member": identity.describe_member(caller),
                "organisations": organisations.of_member(caller)}
    return {"kind": session.kind, "expiresAt": session.expires_at, "tenantKey": session.tenant_key,
            "contactId": session.subject}


@bp.route("/api/auth/session", methods=["DELETE"])
def sign_out() -> Response:
    sessions.revoke(current_session(bp.current_request))
    return Response(body="", status_code=204)


@bp.route("/api/auth/wechat-binding/authorize-url", methods=["GET"])
def wechat_binding_url() -> Response:
    caller = current_member(bp.current_request)
    visit = oauth_state.begin()
    answer = member_wechat.authorize_url(caller, (bp.current_request.query_params or {}).get("redirectUri") or "",
                                         visit)
    return Response(body=answer, status_code=200, headers={"Set-Cookie": visit.set_cookie})


@bp.route("/api/auth/wechat-binding", methods=["POST"])
def bind_wechat() -> Response:
    caller = current_member(bp.current_request)
    return oauth_exchange(bp.current_request, oauth_state.MEMBER_WECHAT,
                          lambda body: member_wechat.bind(caller, str(body.get("code") or "")))
