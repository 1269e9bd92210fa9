"""The mobile pages as files on the wire: content types, caching, security headers, size, and what they may load."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "chalicelib" / "web"
HOME = "/mobile/wechat/external/home"
INVITE = "/mobile/wechat/external/invite"
ASSETS = "/mobile/wechat/external/assets/"
PAGE_BUDGET = 100 * 1024


def referenced_assets(html: str) -> dict[str, str]:
    """name → version for every asset a page links to (relative URLs under assets/)."""
    return dict(re.findall(r'(?:src|href)="assets/([a-z0-9-]+\.(?:css|js))\?v=([0-9a-f]+)"', html))


@pytest.mark.parametrize("path, title", [(f"{HOME}?tenantKey=tnabcd1234", "与我协作"), (HOME, "与我协作"),
                                         (f"{HOME}?tenantKey=nosuchtenant", "与我协作"),
                                         (f"{INVITE}?tenantKey=tnabcd1234&token=abc", "接受邀请")])
def test_pages_are_served_as_html_for_any_tenant_key(client, path, title):
    reply = client.http.get(path)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-cache"
    assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    html = reply.body.decode("utf-8")
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert f"<title>{title}</title>" in html
    assert "{{" not in html


def test_every_asset_a_page_names_is_served_with_its_hash_and_type(client):
    html = client.http.get(f"{HOME}?tenantKey=tnabcd1234").body.decode("utf-8")
    linked = referenced_assets(html)
    assert set(linked) == {"app.css", "common.js", "home.js", "home-settings.js", "home-contacts.js"}
    for name, version in linked.items():
        reply = client.http.get(f"{ASSETS}{name}?v={version}")
        assert reply.status_code == 200, name
        assert reply.body == (WEB / name).read_bytes()
        assert version == hashlib.sha256(reply.body).hexdigest()[:16]
        expected = "text/css; charset=utf-8" if name.endswith(".css") else "text/javascript; charset=utf-8"
        assert reply.headers["Content-Type"] == expected
        assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert reply.headers["ETag"] == f'"{version}"'


def test_an_asset_under_a_stale_or_missing_version_is_cached_briefly(client):
    for query in ("", "?v=0000000000000000"):
        reply = client.http.get(f"{ASSETS}home.js{query}")
        assert reply.status_code == 200
        assert reply.headers["Cache-Control"] == "public, max-age=300"


def test_a_matching_etag_answers_304_without_a_body(client):
    first = client.http.get(f"{HOME}?tenantKey=tnabcd1234")
    again = client.http.get(f"{HOME}?tenantKey=tnabcd1234", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.body == b""
    asset = client.http.get(f"{ASSETS}app.css")
    weak = client.http.get(f"{ASSETS}app.css", headers={"If-None-Match": f'"x", W/{asset.headers["ETag"]}'})
    assert weak.status_code == 304
    changed = client.http.get(f"{ASSETS}app.css", headers={"If-None-Match": '"0000"'})
    assert changed.status_code == 200 and changed.body == asset.body


@pytest.mark.parametrize("name", ["page.html", "nope.js", "web.py", "..%2Fhandlers%2Fweb.py", "HOME.JS", ".js"])
def test_only_the_pages_own_css_and_js_are_assets(client, name):
    reply = client.http.get(f"{ASSETS}{name}")
    assert reply.status_code == 404
    assert reply.json_body["error"]["code"] in {"asset_not_found", "not_found"}


def test_the_invitation_page_links_its_own_script():
    from chalicelib.handlers.web import page

    assert set(referenced_assets(page("invite").body)) == {"app.css", "common.js", "invite.js"}


def test_the_home_page_weighs_under_100_kib_before_gzip():
    from chalicelib.handlers.web import asset, page

    html = page("home").body
    files = [html] + [asset(name).body for name in referenced_assets(html)]
    raw = sum(len(text.encode("utf-8")) for text in files)
    assert raw < PAGE_BUDGET, raw
    assert sum(len(gzip.compress(text.encode("utf-8"))) for text in files) < raw / 2


# WeCom's JS-SDK, vendored as published: it names WeCom's own frames (open-data and login frames of features the
# toolbar does not call), which the pages' policy (default-src 'none', no frame-src) would refuse anyway.
VENDORED_SCRIPTS = ("wecom-jssdk.js",)


def test_the_pages_load_nothing_from_elsewhere_and_never_parse_data_as_html():
    for path in WEB.iterdir():
        text = path.read_text(encoding="utf-8")
        if path.name not in VENDORED_SCRIPTS:
            assert not re.search(r'(?:src|href)="(?:https?:)?//', text), path.name
        assert "@import" not in text and "url(http" not in text, path.name
        if path.suffix == ".js":
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
                assert sink not in text, (path.name, sink)


WORKSPACE_PATHS = ["/directory/contacts", "/directory/contacts/c%23abc", "/directory/add/manual",
                   "/directory/org-invitations", "/admin/account-applications", "/admin/account-applications/app-1",
                   "/directory/messages", "/directory/messages/c%23abc"]
WORKSPACE_BUDGET = 150 * 1024


@pytest.mark.parametrize("path", WORKSPACE_PATHS)
def test_every_workspace_path_serves_the_workspace_with_assets_relative_to_its_depth(client, path):
    from urllib.parse import urljoin

    reply = client.http.get(f"{path}?tenantKey=tnabcd1234")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
    html = reply.body.decode("utf-8")
    assert "<title>外部互联</title>" in html and "{{" not in html
    linked = re.findall(r'(?:src|href)="([^"]+\?v=[0-9a-f]+)"', html)
    assert [urljoin(path, url).split("?")[0].rsplit("/", 1)[-1] for url in linked] == \
        ["weui.css", "app.css", "common.js", "workspace.js", "workspace-messages.js"]
    for url in linked:  # resolved as a browser would, from the page's own address
        assert client.http.get(urljoin(path, url)).status_code == 200, url


def test_the_workspace_weighs_under_150_kib_before_gzip():
    from chalicelib.handlers.web import asset, page

    html = page("workspace", 1).body
    names = re.findall(r'assets/([a-z0-9-]+\.(?:css|js))\?v=', html)
    raw = len(html.encode("utf-8")) + sum(len(asset(name).body.encode("utf-8")) for name in names)
    assert raw < WORKSPACE_BUDGET, raw


def test_the_vendored_weui_keeps_its_licence():
    text = (WEB / "weui.css").read_text(encoding="utf-8")
    assert text.startswith("/*!\n * WeUI v") and "Licensed under the MIT license" in text
    assert "Permission is hereby granted" in (WEB / "weui.LICENSE.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("path, script", [("/admin/console/settings", "admin.js"), ("/admin/console/wecom", "admin.js"),
                                          ("/admin/console/directory", "admin-tree.js"),
                                          ("/admin/console/accounts", "admin-accounts.js")])
def test_the_admin_console_is_the_workspace_page_with_its_script_after_the_workspaces(client, path, script):
    from urllib.parse import urljoin

    reply = client.http.get(f"{path}?tenantKey=tnabcd1234")
    assert reply.status_code == 200 and "default-src 'none'" in reply.headers["Content-Security-Policy"]
    html = reply.body.decode("utf-8")
    assert "{{" not in html
    linked = re.findall(r'(?:src|href)="([^"]+\?v=[0-9a-f]+)"', html)
    assert [urljoin(path, url).split("?")[0].rsplit("/", 1)[-1] for url in linked] == \
        ["weui.css", "app.css", "common.js", "workspace.js", script]
    for url in linked:
        assert client.http.get(urljoin(path, url)).status_code == 200, url


@pytest.mark.parametrize("name", ["admin", "admin-tree", "admin-accounts"])
def test_the_admin_console_weighs_under_150_kib_before_gzip(name):
    from chalicelib.handlers.web import asset, page

    html = page(name, 2).body
    names = re.findall(r'assets/([a-z0-9-]+\.(?:css|js))\?v=', html)
    raw = len(html.encode("utf-8")) + sum(len(asset(name).body.encode("utf-8")) for name in names)
    assert raw < WORKSPACE_BUDGET, raw


def test_the_toolbar_page_loads_the_vendored_sdk_and_the_stand_in_only_on_the_local_stage(client, monkeypatch):
    from urllib.parse import urljoin

    from chalicelib.core import config
    from chalicelib.handlers import web

    reply = client.http.get("/directory/toolbar?tenantKey=tnabcd1234")
    assert reply.status_code == 200
    html = reply.body.decode("utf-8")
    assert "<title>聊天工具栏</title>" in html and "{{" not in html
    linked = re.findall(r'(?:src|href)="([^"]+\?v=[0-9a-f]+)"', html)
    assert [urljoin("/directory/toolbar", url).split("?")[0].rsplit("/", 1)[-1] for url in linked] == \
        ["weui.css", "wecom-jssdk.js", "app.css", "common.js", "toolbar.js"]
    simulator = config.wecom_login_base_url()
    assert f'<script src="{simulator}/jssdk/ww.js" defer></script>' in html
    policy = reply.headers["Content-Security-Policy"]
    assert f"script-src 'self' {simulator};" in policy and f"connect-src 'self' {simulator};" in policy
    monkeypatch.setattr(config, "stage", lambda: "prod")
    web.page.cache_clear()
    try:
        deployed = client.http.get("/directory/toolbar?tenantKey=tnabcd1234")
        assert "jssdk/ww.js" not in deployed.body.decode("utf-8")
        assert deployed.headers["Content-Security-Policy"] == web.SECURITY_HEADERS["Content-Security-Policy"]
    finally:
        monkeypatch.undo()
        web.page.cache_clear()


def test_the_vendored_wecom_jssdk_keeps_its_licence_and_version():
    text = (WEB / "wecom-jssdk.js").read_text(encoding="utf-8")
    assert text.startswith("/*! @wecom/jssdk ") and "var ww=" in text
    assert "Permission is hereby granted" in (WEB / "wecom-jssdk.LICENSE.txt").read_text(encoding="utf-8")


def test_the_toolbar_weighs_under_150_kib_before_gzip():
    from chalicelib.handlers.web import asset, page

    html = page("toolbar", 1).body
    names = re.findall(r'assets/([a-z0-9-]+\.(?:css|js))\?v=', html)
    raw = len(html.encode("utf-8")) + sum(len(asset(name).body.encode("utf-8")) for name in names)
    assert raw < WORKSPACE_BUDGET, raw
