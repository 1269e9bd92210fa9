"""The pages, served by the app itself: what external contacts open (与我协作 and the invitation page) and the members'
workspace (外部互联, contact cards, adding contacts, invitations, account applications).

    GET /mobile/wechat/external/home?tenantKey=           the external home page (HTML)
    GET /mobile/wechat/external/invite?tenantKey=&token=  the invitation accept page (HTML)
    GET /mobile/wechat/external/assets/{name}             their CSS and JavaScript
    GET /mobile/wechat/external/cards/{kind}.png          the picture of a chat card (sharing/cards.py)
    GET /directory/contacts?tenantKey=                    the workspace: 外部互联, the member's contacts
    GET /directory/contacts/{contactId}?tenantKey=        a contact's card
    GET /directory/add/{method}?tenantKey=                add a contact: manual | wechat | organisation
    GET /directory/org-invitations?tenantKey=             invitations from and to other organisations
    GET /directory/messages[/{contactId}]?tenantKey=      消息: the member's threads with contacts, one thread
    GET /admin/account-applications?tenantKey=            外部账号开通申请: the approvers' inbox, the applicant's list
    GET /admin/account-applications/{applicationId}?tenantKey=   one application, approved or rejected there
    GET /admin/console/{view}?tenantKey=                  the admin console: settings | wecom | directory | accounts
                                                          (docs/admin-console.md)
    GET /directory/toolbar?tenantKey=                     the WeCom chat toolbar page (docs/toolbar.md)

The workspace's paths are the ones the WeCom cards Yunqiao sends members link to; every one of them serves the same
page (workspace.js routes by path), which names its assets relative to its own depth so that a stage prefix in front
(API Gateway's) needs no configuration.

The pages are static: no tenant lookup, no DynamoDB request, the same bytes for every visitor, so a missing or unknown
tenantKey still gets the page, which asks the API and shows the API's answer (for example "未找到这个团队").
Each page names its assets with `?v=<content hash>`: an asset asked for under its current hash is cached for a year,
the page itself is revalidated on every load (ETag → 304), so a deployment is seen at once and a repeat visit on a
phone network costs one small conditional request.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chalice import Response

from chalicelib.core import config
from chalicelib.core.errors import NotFound
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.sharing import cards

bp = ApiBlueprint(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.(?:css|js)$")
ASSETS = "mobile/wechat/external/assets/"
ASSET_REFERENCE = re.compile(r"\{\{([a-z0-9-]+\.(?:css|js))\}\}")
# Every page is one shell (page.html) that loads app.css, common.js and the page's own script; the workspace also
# loads the vendored WeUI subset first, so app.css can adjust it.
PAGES = {
    "home": {"title": "与我协作", "script": "{{home.js}}", "noscript": "这个页面需要 JavaScript 才能显示共享给您的内容。",
             "vendor": "", "extra": '<script src="{{assets}}{{home-contacts.js}}" defer></script>\n'
                                     '<script src="{{assets}}{{home-settings.js}}" defer></script>\n'},
    "invite": {"title": "接受邀请", "script": "{{invite.js}}", "noscript": "这个页面需要 JavaScript 才能接受邀请。",
               "vendor": ""},
    "workspace": {"title": "外部互联", "script": "{{workspace.js}}", "noscript": "外部互联需要 JavaScript 才能使用。",
                  "vendor": '<link rel="stylesheet" href="{{assets}}{{weui.css}}">\n',
                  "extra": '<script src="{{assets}}{{workspace-messages.js}}" defer></script>\n'},
    # The admin console: the workspace (its shell and sign-in) and the console's own views after it.
    "admin": {"title": "管理", "script": "{{workspace.js}}", "noscript": "管理后台需要 JavaScript 才能使用。",
              "vendor": '<link rel="stylesheet" href="{{assets}}{{weui.css}}">\n',
              "extra": '<script src="{{assets}}{{admin.js}}" defer></script>\n'},
    "admin-tree": {"title": "外部组织维护", "script": "{{workspace.js}}", "noscript": "管理后台需要 JavaScript 才能使用。",
                   "vendor": '<link rel="stylesheet" href="{{assets}}{{weui.css}}">\n',
                   "extra": '<script src="{{assets}}{{admin-tree.js}}" defer></script>\n'},
    "admin-accounts": {"title": "账号安全", "script": "{{workspace.js}}", "noscript": "管理后台需要 JavaScript 才能使用。",
                       "vendor": '<link rel="stylesheet" href="{{assets}}{{weui.css}}">\n',
                       "extra": '<script src="{{assets}}{{admin-accounts.js}}" defer></script>\n'},
    # The chat toolbar: WeCom's JS-SDK (vendored) before the page's script; on the local stage the simulator's
    # stand-in for the WeCom client's `ww` comes after it (see _stand_in).
    "toolbar": {"title": "聊天工具栏", "script": "{{toolbar.js}}", "noscript": "聊天工具栏需要 JavaScript 才能使用。",
                "vendor": '<link rel="stylesheet" href="{{assets}}{{weui.css}}">\n'
                          '<script src="{{assets}}{{wecom-jssdk.js}}" defer></script>\n{{stand-in}}'},
}
# Which page serves each view of the admin console (each loads only its own views' script, within the page budget).
CONSOLE_PAGES = {"directory": "admin-tree", "accounts": "admin-accounts"}
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
REVALIDATE = "no-cache"
# The pages load only their own assets and talk only to their own origin; nothing from the API is ever HTML.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class StaticFile:
    body: str
    content_type: str
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def asset(name: str) -> StaticFile:
    """A CSS or JavaScript file of chalicelib/web, read once per Lambda instance; NotFound for anything else."""
    path = WEB_DIR / name
    if not ASSET_NAME.match(name) or not path.is_file():
        raise NotFound(f"no asset {name!r}", code="asset_not_found")
    text = path.read_text(encoding="utf-8")
    return StaticFile(text, CONTENT_TYPES[path.suffix], _version(text))


@functools.lru_cache(maxsize=None)
def page(name: str, depth: int = 0) -> StaticFile:
    """A page of PAGES: the shell filled in, each `{{asset}}` becoming `asset?v=<its content hash>`, named relative
    to a page `depth` folders below the root (0: a page of /mobile/wechat/external/, whose assets are `assets/`)."""
    text = (WEB_DIR / "page.html").read_text(encoding="utf-8")
    for key, value in {"extra": "", **PAGES[name]}.items():
        text = text.replace("{{%s}}" % key, value)
    stand_in = _stand_in()
    text = text.replace("{{stand-in}}", f'<script src="{stand_in}" defer></script>\n' if stand_in else "")
    text = text.replace("{{assets}}", "../" * depth + ASSETS if depth else "assets/")
    text = ASSET_REFERENCE.sub(lambda match: f"{match.group(1)}?v={asset(match.group(1)).version}", text)
    return StaticFile(text, CONTENT_TYPES[".html"], _version(text))


def _stand_in() -> str | None:
    return config.wecom_jssdk_stand_in_url()


def _toolbar_headers() -> dict[str, str]:
    """The toolbar's policy: the pages' own, plus the simulator's origin for the stand-in `ww` (script and calls) on
    the local stage only; deployed, WeCom's client answers the SDK itself and the page talks to nothing else."""
    stand_in = _stand_in()
    if not stand_in:
        return SECURITY_HEADERS
    origin = "/".join(stand_in.split("/")[:3])
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("script-src 'self'", f"script-src 'self' {origin}")
    return {**SECURITY_HEADERS,
            "Content-Security-Policy": policy.replace("connect-src 'self'", f"connect-src 'self' {origin}")}


def _serve(static: StaticFile, cache_control: str, security: dict[str, str] = SECURITY_HEADERS) -> Response:
    headers = {"Content-Type": static.content_type, "Cache-Control": cache_control, "ETag": static.etag,
               **security}
    known = (bp.current_request.headers or {}).get("if-none-match") or ""
    if static.etag in {tag.strip().removeprefix("W/") for tag in known.split(",")}:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=static.body, status_code=200, headers=headers)


@bp.route("/mobile/wechat/external/home", methods=["GET"])
def external_home() -> Response:
    return _serve(page("home"), REVALIDATE)


@bp.route("/mobile/wechat/external/invite", methods=["GET"])
def invitation_page() -> Response:
    return _serve(page("invite"), REVALIDATE)


@bp.route("/mobile/wechat/external/assets/{name}", methods=["GET"])
def web_asset(name: str) -> Response:
    static = asset(name)
    requested = (bp.current_request.query_params or {}).get("v")
    return _serve(static, IMMUTABLE if requested == static.version else SHORT)


@bp.route("/mobile/wechat/external/cards/{name}", methods=["GET"])
def card_picture(name: str) -> Response:
    kind, _, extension = name.rpartition(".")
    if extension != "png":
        raise NotFound(f"no card picture {name!r}", code="asset_not_found")
    return Response(body=cards.icon_png(kind), status_code=200,
                    headers={"Content-Type": "image/png", "Cache-Control": SHORT, "X-Content-Type-Options": "nosniff"})


# --- the members' workspace: one page at every path a member's WeCom card links to ------------------------------------
def _workspace(path_depth: int) -> Response:
    """The workspace page for a path of `path_depth` segments (its folder is one less deep)."""
    return _serve(page("workspace", path_depth - 1), REVALIDATE)


@bp.route("/directory/contacts", methods=["GET"])
def workspace_contacts() -> Response:
    return _workspace(2)


@bp.route("/directory/contacts/{contactId}", methods=["GET"])
def workspace_contact(contactId: str) -> Response:
    return _workspace(3)


@bp.route("/directory/add/{method}", methods=["GET"])
def workspace_add(method: str) -> Response:
    return _workspace(3)


@bp.route("/directory/org-invitations", methods=["GET"])
def workspace_org_invitations() -> Response:
    return _workspace(2)


@bp.route("/directory/messages", methods=["GET"])
def workspace_messages() -> Response:
    return _workspace(2)


@bp.route("/directory/messages/{contactId}", methods=["GET"])
def workspace_thread(contactId: str) -> Response:
    return _workspace(3)


@bp.route("/admin/account-applications", methods=["GET"])
def workspace_applications() -> Response:
    return _workspace(2)


@bp.route("/admin/account-applications/{applicationId}", methods=["GET"])
def workspace_application(applicationId: str) -> Response:
    return _workspace(3)


@bp.route("/directory/toolbar", methods=["GET"])
def chat_toolbar() -> Response:
    return _serve(page("toolbar", 1), REVALIDATE, _toolbar_headers())


# --- the admin console: the workspace page with the console's script ---------------------------------------------------
@bp.route("/admin/console/{view}", methods=["GET"])
def admin_console(view: str) -> Response:
    return _serve(page(CONSOLE_PAGES.get(view, "admin"), 2), REVALIDATE)
