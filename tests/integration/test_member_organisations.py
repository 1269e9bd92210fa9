"""The 外部 mark: a member's session lists the other organisations (teams on Yunqiao) where they are an external
contact — made so by an accepted invitation from another organisation — through the HTTP entry points, against
the emulator and the simulator."""
from __future__ import annotations

import pytest

from chalicelib.store import contacts as contact_store
from chalicelib.store import tenants as tenant_store
from tests.integration.api_support import Api, body
from tests.integration.test_invitations import BASE_URL, _demo_corp_tenant, _invite


@pytest.fixture
def home(demo_tenant):
    from chalicelib.tenants import onboarding

    return _demo_corp_tenant(f"云桥测试{onboarding.new_tenant_key()}")


@pytest.fixture
def other(home):
    from chalicelib.tenants import onboarding

    return _demo_corp_tenant(f"远山贸易{onboarding.new_tenant_key()}")


@pytest.fixture
def as_member(client, sign_in):
    return lambda tenant, user_id, roles=(): Api(client, sign_in(tenant, user_id, roles=roles))


def organisations(api: Api) -> list[dict]:
    reply = api.get("/api/auth/session")
    assert reply.status_code == 200, reply.body
    return body(reply)["organisations"]


def connect(as_member, home, other) -> tuple[Api, Api]:
    """lisi (home) invites wangwu (other), who accepts: each is now a contact in the other's directory."""
    lisi, wangwu = as_member(home, "lisi"), as_member(other, "wangwu")
    sent = _invite(lisi, other.name, "王五")
    assert sent.status_code == 201, sent.body
    accepted = wangwu.post(f"/api/directory/org-invitations/{body(sent)['invitationId']}/accept")
    assert accepted.status_code == 200, accepted.body
    return lisi, wangwu


def test_a_member_lists_only_their_own_team_until_another_adds_them(as_member, home, other):
    assert organisations(as_member(other, "wangwu")) == [
        {"tenantKey": other.tenant_key, "name": other.name, "external": False, "current": True}]


def test_an_accepted_invitation_marks_each_side_external_in_the_others_team(as_member, home, other):
    lisi, wangwu = connect(as_member, home, other)
    assert organisations(wangwu) == [
        {"tenantKey": other.tenant_key, "name": other.name, "external": False, "current": True},
        {"tenantKey": home.tenant_key, "name": home.name, "external": True, "current": False,
         "homeUrl": f"{BASE_URL}/mobile/wechat/external/home?tenantKey={home.tenant_key}"},
    ]
    assert [(o["tenantKey"], o["external"]) for o in organisations(lisi)] == [
        (home.tenant_key, False), (other.tenant_key, True)]
    # the same people of the same corp, in other teams or not invited, are nobody's external contact
    assert [o["tenantKey"] for o in organisations(as_member(other, "lisi"))] == [other.tenant_key]
    assert [o["tenantKey"] for o in organisations(as_member(home, "wangwu"))] == [home.tenant_key]
    assert [o["tenantKey"] for o in organisations(as_member(other, "zhangsan"))] == [other.tenant_key]


def test_the_mark_goes_with_the_contact_and_with_a_disabled_team(as_member, home, other):
    _, wangwu = connect(as_member, home, other)
    [contact] = [c for c in contact_store.Contact.query(home.tenant_key) if c.source == "other_organisation"]
    assert contact.peer_key == f"{other.tenant_key}#wangwu"  # the index key, written by the contacts' write path
    admin = as_member(home, "zhengshi", roles=("admin",))
    assert admin.delete(f"/api/directory/contacts/{contact.contact_id}").status_code == 204
    assert [o["tenantKey"] for o in organisations(wangwu)] == [other.tenant_key]

    lisi = as_member(other, "lisi")
    third = _demo_corp_tenant(f"北辰科技{home.tenant_key}")
    sent = _invite(as_member(third, "zhaoliu"), other.name, "李四")
    assert lisi.post(f"/api/directory/org-invitations/{body(sent)['invitationId']}/accept").status_code == 200
    assert [o["tenantKey"] for o in organisations(lisi)] == [other.tenant_key, third.tenant_key]
    tenant_store.set_enabled(third, False)
    assert [o["tenantKey"] for o in organisations(lisi)] == [other.tenant_key]


def test_a_contact_session_lists_no_organisations(client, as_member, home):
    from chalicelib.auth import sessions

    issued = sessions.issue(home.tenant_key, sessions.CONTACT, "c-any", "password")
    reply = client.http.get("/api/auth/session", headers={"Authorization": f"Bearer {issued.token}"})
    assert reply.status_code == 200 and "organisations" not in body(reply)
