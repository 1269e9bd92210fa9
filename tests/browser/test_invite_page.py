"""The invitation page: a WeChat friend opens the link a member sent, sees who invites them and accepts."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser


def test_a_wechat_friend_accepts_an_invitation_once(phone, app_server, client, demo_tenant, sign_in, shoot):
    from chalicelib.core import config

    member = sign_in(demo_tenant, "lisi")
    reply = client.http.post("/api/directory/invitations", headers=member, body=json.dumps({"note": "展会上认识的"}))
    assert reply.status_code == 201, reply.body
    invitation = json.loads(reply.body)

    phone.goto(invitation["link"].replace(config.public_base_url(), app_server))
    form = phone.locator("#accept-form")
    form.wait_for()
    assert f"「{demo_tenant.name}」" in form.locator("h2").inner_text()
    shoot("invitation")
    phone.click("#accept-form button[type=submit]")
    phone.get_by_text("请填写姓名。").wait_for()
    phone.fill("#accept-form input[name=name]", "周女士")
    phone.fill("#accept-form input[name=mobile]", "13800001234")
    phone.fill("#accept-form input[name=position]", "采购经理")
    phone.click("#accept-form button[type=submit]")
    done = phone.locator("[data-state=empty]")
    done.wait_for()
    assert "已接受邀请" in done.inner_text()
    shoot("accepted")

    accepted = json.loads(client.http.get(f"/api/directory/invitations/{invitation['invitationId']}",
                                          headers=member).body)
    assert accepted["status"] == "accepted" and accepted["contactId"]

    phone.reload()
    used = phone.locator("[data-state=error]")
    used.wait_for()
    assert "这个邀请已经被接受过了。" in used.inner_text()
    shoot("used")
