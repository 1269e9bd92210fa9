"""What the workspace's browser tests share: desktop and phone pages, signed-in members, the recorded WeCom cards."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.browser.conftest import PHONE, ROOT, WAIT_MS

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "locale": "zh-CN",
           "timezone_id": "Asia/Shanghai"}
# The WeCom client's WebView on a phone (what `wxwork/` in the user agent tells a page).
WECOM_PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                  "Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh ColorScheme/Light")
KEPT = ROOT / "docs" / "screenshots"
WORKSPACE = "/directory/contacts"


def workspace_url(app_server: str, tenant, path: str = WORKSPACE, **params: str) -> str:
    query = "&".join([f"tenantKey={tenant.tenant_key}", *(f"{k}={v}" for k, v in params.items())])
    return f"{app_server}{path}?{query}"


def open_page(browser, errors: list, contexts: list, desktop: bool = False, user_agent: str | None = None):
    """A fresh page (its own context, so its own sessionStorage) at desktop or phone size."""
    options = dict(DESKTOP if desktop else PHONE)
    if user_agent:
        options["user_agent"] = user_agent
    context = browser.new_context(**options)
    context.set_default_timeout(WAIT_MS)
    contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def signed_in(page, tenant, headers: dict) -> None:
    """Put a member session (made by the app's own OAuth route) where the workspace keeps it, before its scripts run."""
    token = headers["Authorization"].split(" ", 1)[1]
    page.add_init_script(f"sessionStorage.setItem({json.dumps('yq.member.' + tenant.tenant_key)}, {json.dumps(token)})")


def keep(shot: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ as `name`.png (the reference set)."""
    shutil.copyfile(shot, KEPT / f"{name}.png")


def card_links(simulator, touser: str, public_base: str, app_server: str) -> list[tuple[str, str]]:
    """(title, url) of every text card the simulator delivered to `touser`, oldest first, pointed at the local app."""
    found = []
    for message in simulator.control.messages(touser=touser):
        card = message["body"].get("textcard")
        if card and touser in message["delivered"]:
            found.append((card["title"], card["url"].replace(public_base, app_server)))
    return found
