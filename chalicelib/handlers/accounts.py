"""External accounts over HTTP: the members' account management, the tenant's external apps, and the external
contacts' own sign-in, profile and password.

Members (member sessions; admins and 外部互联维护 holders manage, see `chalicelib.accounts.admin`):
    PUT    /api/directory/contacts/{contactId}/account      {accountName?, delivery, password?}  assign (201)
    GET    /api/directory/contacts/{contactId}/account                                       the account
    POST   /api/directory/contacts/{contactId}/account/activation                           a new link (201)
    POST   /api/directory/contacts/{contactId}/account/reset     void the password, end sessions, new link (201; admins)
    POST   /api/directory/contacts/{contactId}/account/disable | /enable
    GET    /api/directory/external-apps            PUT {apps: [key, ...]}   apps open to external users (admins;
                                                   the same write and audit as the settings' externalApps)
External contacts:
    POST   /api/external/activation        {tenantKey, token, password}      set the password, signed in (201)
    POST   /api/external/session/password  {tenantKey, account, password}    sign in (201)
    DELETE /api/external/session                                             sign out (204)
    GET    /api/external/me                PATCH {name?, mobile?, email?, position?}
    POST   /api/external/me/password       {currentPassword, newPassword}
    POST   /api/external/me/wechat/authorize                   the official account's OAuth page to bind WeChat
                                                               (+ the round trip's state cookie)
    POST   /api/external/me/wechat         {code, state}       bind the WeChat of the code (201)
    DELETE /api/external/me/wechat                             unbind it
    GET    /api/external/password-reset/options?tenantKey=     how to reset a forgotten password (+ state cookie)
    POST   /api/external/password-reset/wechat {tenantKey, code, state}   the bound WeChat proves the account: a new
                                                               activation link to set the password with (201)

`current_contact(request)` authenticates every external route (the home and sharing routes too).
"""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Response

from chalicelib.handlers.api import ApiBlueprint
from chalicelib.handlers.auth import current_member, current_session, json_body, oauth_exchange
from chalicelib.auth import identity, oauth_state, sessions
from chalicelib.accounts import admin, apps, binding, recovery, service
from chalicelib.core.observability import bind_tenant
from chalicelib.store import tenants
from chalicelib.tenants import settings

bp = ApiBlueprint(__name__)


def current_contact(request, *, password_change_allowed: bool = False) -> service.ContactCaller:
    """The signed-in external contact of the request: 401 without a live contact session, 403 `account_disabled`,
    and 403 `password_change_required` while an initial password is unchanged (unless `password_change_allowed`:
    only `me` and the password change pass then)."""
    return service.contact_caller(current_session(request, sessions.CONTACT),
                                  password_change_allowed=password_change_allowed)


def _source_ip(request) -> str:
    """API Gateway's view of the client address (never a header the client could set)."""
    return str(((request.context or {}).get("identity") or {}).get("sourceIp") or "")



# --- members ------------------------------------------------------------------------------------------------------
@bp.route("/api/directory/contacts/{contactId}/account", methods=["PUT"])
def assign_account(contactId: str) -> Response:
    caller = current_member(bp.current_request)
    result = admin.assign(caller, unquote(contactId), json_body(bp.current_request))
    return Response(body=result, status_code=201)


@bp.route("/api/directory/contacts/{contactId}/account", methods=["GET"])
def get_account(contactId: str) -> dict:
    return admin.account(current_member(bp.current_request), unquote(contactId))


@bp.route("/api/directory/contacts/{contactId}/account/activation", methods=["POST"])
def reissue_activation(contactId: str) -> Response:
    caller = current_member(bp.current_request)
    return Response(body=admin.reissue_activation(caller, unquote(contactId)), status_code=201)


@bp.route("/api/directory/contacts/{contactId}/account/reset", methods=["POST"])
def reset_account(contactId: str) -> Response:
    caller = current_member(bp.current_request)
    return Response(body=admin.reset(caller, unquote(contactId)), status_code=201)


@bp.route("/api/directory/contacts/{contactId}/account/disable", methods=["POST"])
def disable_account(contactId: str) -> dict:
    return admin.disable(current_member(bp.current_request), unquote(contactId))


@bp.route("/api/directory/contacts/{contactId}/account/enable", methods=["POST"])
def enable_account(contactId: str) -> dict:
    return admin.enable(current_member(bp.current_request), unquote(contactId))


@bp.route("/api/directory/external-apps", methods=["GET"])
def get_external_apps() -> dict:
    caller = current_member(bp.current_request)
    identity.require_admin(caller)
    return {"apps": apps.catalogue(caller.tenant_key)}


@bp.route("/api/directory/external-apps", methods=["PUT"])
def put_external_apps() -> dict:
    caller = current_member(bp.current_request)
    identity.require_admin(caller)
    body = json_body(bp.current_request)
    # through the tenant settings' write path, so this change is audited like the console's
    changed = settings.change(tenants.get_enabled(caller.tenant_key), {"externalApps": body.get("apps")}, caller.user_id)
    return {"apps": changed["externalApps"]}


# --- external contacts --------------------------------------------------------------------------------------------
def _tenant_key(body: dict) -> str:
    tenant_key = str(body.get("tenantKey") or "")
    bind_tenant(tenant_key)
    return tenant_key


@bp.route("/api/external/activation", methods=["POST"])
def activate() -> Response:
    body = json_body(bp.current_request)
    answer = service.activate(_tenant_key(body), body.get("token"), body.get("password"))
    return Response(body=answer, status_code=201)


@bp.route("/api/external/session/password", methods=["POST"])
def sign_in_with_password() -> Response:
    request = bp.current_request
    body = json_body(request)
    return Response(
        body=service.sign_in(_tenant_key(body), body.get("account"), body.get("password"), _source_ip(request)),
        status_code=201,
    )


@bp.route("/api/external/session", methods=["DELETE"])
def sign_out() -> Response:
    sessions.revoke(current_session(bp.current_request, sessions.CONTACT))
    return Response(body="", status_code=204)


@bp.route("/api/external/me", methods=["GET"])
def get_me() -> dict:
    return service.me(current_contact(bp.current_request, password_change_allowed=True))


@bp.route("/api/external/me", methods=["PATCH"])
def patch_me() -> dict:
    caller = current_contact(bp.current_request)
    return service.update_me(caller, json_body(bp.current_request))


@bp.route("/api/external/me/password", methods=["POST"])
def change_password() -> Response:
    request = bp.current_request
    caller = current_contact(request, password_change_allowed=True)
    body = json_body(request)
    return Response(
        body=service.change_password(caller, body.get("currentPassword"), body.get("newPassword"),
                                     _source_ip(request)),
        status_code=200,
    )


@bp.route("/api/external/me/wechat/authorize", methods=["POST"])
def begin_wechat_binding() -> Response:
    caller = current_contact(bp.current_request)
    visit = oauth_state.begin()
    return Response(body=binding.begin(caller, visit), status_code=200, headers={"Set-Cookie": visit.set_cookie})


@bp.route("/api/external/me/wechat", methods=["POST"])
def bind_wechat() -> Response:
    request = bp.current_request
    return oauth_exchange(request, oauth_state.BIND, lambda body: binding.bind(
        current_contact(request), str(body.get("code") or "")))


@bp.route("/api/external/me/wechat", methods=["DELETE"])
def unbind_wechat() -> dict:
    return binding.unbind(current_contact(bp.current_request))


@bp.route("/api/external/password-reset/options", methods=["GET"])
def password_reset_options() -> Response:
    visit = oauth_state.begin()
    answer = recovery.options((bp.current_request.query_params or {}).get("tenantKey") or "", visit)
    return Response(body=answer, status_code=200, headers={"Set-Cookie": visit.set_cookie})


@bp.route("/api/external/password-reset/wechat", methods=["POST"])
def reset_password_through_wechat() -> Response:
    return oauth_exchange(bp.current_request, oauth_state.RESET, lambda body: recovery.reset(
        _tenant_key(body), str(body.get("code") or "")))
