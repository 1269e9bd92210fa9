"""The permission matrix of issue 7, through the HTTP routes: for each role and relation — adder, visible member,
shared-to (view and edit), dimension maintainer (of this dimension and of another), 外部互联维护, admin, unrelated
member, member of another tenant (the same userids, another tenant bound to the same corp) — each action: list,
read, edit, share, see account information, delete. Not seeing a contact is 404, never 403; seeing it without the
right to act is 403."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.tenants import onboarding
from chalicelib.directory import contacts as directory
from chalicelib.directory import tree
from chalicelib.auth.identity import Caller
from chalicelib.store import roles
from tests.integration.api_support import body, error_code
from tests.integration.directory_support import Api, front_list_ids

DEMO = Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json"
OK, DENIED, HIDDEN = "ok", "403", "404"

# who: (user id, roles, which tenant)     the contact: adder lisi, visible zhaoliu, shared sunqi (view), zhouba (edit)
CALLERS = {
    "adder": ("lisi", (), "home"),
    "visible_member": ("zhaoliu", (), "home"),
    "shared_view": ("sunqi", (), "home"),
    "shared_edit": ("zhouba", (), "home"),
    "dimension_maintainer": ("wangwu", ("dim",), "home"),
    "other_dimension_maintainer": ("wangwu", ("other_dim",), "home"),
    "directory_maintainer": ("wangwu", (roles.DIRECTORY_MAINTAINER,), "home"),
    "admin": ("zhangsan", (roles.ADMIN,), "home"),
    "unrelated": ("zhengshi", (), "home"),
    "other_tenant_same_userid": ("lisi", (), "other"),
    "other_tenant_admin": ("zhangsan", (roles.ADMIN,), "other"),
}
#                             list        read    edit    share   account delete
EXPECTED = {
    "adder":                 ("front",    OK,     OK,     OK,     OK,     OK),
    "visible_member":        ("front",    OK,     DENIED, DENIED, DENIED, DENIED),
    "shared_view":           ("front",    OK,     DENIED, DENIED, DENIED, DENIED),
    "shared_edit":           ("front",    OK,     DENIED, OK,     DENIED, DENIED),
    "dimension_maintainer":  ("back",     OK,     OK,     OK,     OK,     OK),
    "other_dimension_maintainer": (None,  HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "directory_maintainer":  ("back",     OK,     OK,     OK,     OK,     OK),
    "admin":                 ("back",     OK,     OK,     OK,     OK,     OK),
    "unrelated":             (None,       HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "other_tenant_same_userid": (None,    HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "other_tenant_admin":    (None,       HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
}


def _outcome(reply, allowed_status: int) -> str:
    if reply.status_code == allowed_status:
        return OK
    if reply.status_code == 403:
        return DENIED
    assert reply.status_code == 404 and error_code(reply) == "contact_not_found", (reply.status_code, reply.body)
    return HIDDEN


@pytest.fixture
def world(demo_tenant):
    """Two dimensions, an organisation, and one contact with every relation, made through the domain."""
    boss = Caller(demo_tenant.tenant_key, "builder", frozenset({roles.ADMIN}))
    dimension = tree.create_node(boss, {"kind": "dimension", "name": "客户"})
    other = tree.create_node(boss, {"kind": "dimension", "name": "供应商"})
    org = tree.create_node(boss, {"kind": "organisation", "name": "星河贸易", "parentId": dimension.node_id})
    contact = directory.create_contact(
        demo_tenant,
        {"name": "陈经理", "mobile": "13800138000", "email": "chen@example.com", "organisationId": org.node_id,
         "visibleMembers": ["lisi", "zhaoliu"],
         "shareList": {"sunqi": {"permission": "view"}, "zhouba": {"permission": "edit"}}},
        source="manual", adder_id="lisi", actor="lisi",
    )
    return {"tenant": demo_tenant, "dimension": dimension.node_id, "other": other.node_id, "org": org.node_id,
            "contact": contact.contact_id}


@pytest.fixture
def other_tenant(demo_tenant):
    """A second tenant bound to the same demo corp: the same userids, another tenantKey."""
    from dev.seed import seed

    return seed(DEMO, onboarding.new_tenant_key())


@pytest.mark.parametrize("who", list(EXPECTED))
def test_permission_matrix(who, world, client, sign_in, request):
    user_id, role_names, which = CALLERS[who]
    tenant = world["tenant"] if which == "home" else request.getfixturevalue("other_tenant")
    granted = [roles.dimension_role(world["dimension"]) if r == "dim" else
               roles.dimension_role(world["other"]) if r == "other_dim" else r for r in role_names]
    api = Api(client, sign_in(tenant, user_id, roles=tuple(granted)))
    contact_id = world["contact"]
    path = f"/api/directory/contacts/{contact_id}"
    list_where, read, edit, share, account, delete = EXPECTED[who]

    # list
    in_front = contact_id in front_list_ids(api)
    back = api.get("/api/directory/back-office/contacts")
    in_back = back.status_code == 200 and contact_id in [c["contactId"] for c in body(back)["contacts"]]
    assert (in_front, in_back) == (list_where == "front", list_where == "back")
    if list_where is None and not granted:
        assert back.status_code == 403
    # read
    reply = api.get(path)
    assert _outcome(reply, 200) == read
    # see account information: in the contact's JSON, and the audit trail
    if read == OK:
        assert ("accountStatus" in body(reply)) == (account == OK)
        assert ("accountName" in body(reply)) == (account == OK)
        assert body(reply)["permissions"] == {"edit": edit == OK, "share": share == OK, "account": account == OK,
                                             "delete": delete == OK}
    assert _outcome(api.get(f"{path}/audit"), 200) == account
    # edit
    assert _outcome(api.patch(path, {"remark": f"edited by {who}"}), 200) == edit
    # share (visible members and share list)
    assert _outcome(api.put(f"{path}/visible-members", {"userIds": ["lisi", "zhaoliu", "wujiu"]}), 200) == share
    assert _outcome(api.put(f"{path}/share-list", {"shareList": {"sunqi": {"permission": "view"},
                                                                 "zhouba": {"permission": "edit"}}}), 200) == share
    # delete
    assert _outcome(api.delete(path), 204) == delete
    still_there = directory.find(world["tenant"].tenant_key, contact_id) is not None
    assert still_there == (delete != OK)


def test_cross_tenant_ids_are_always_404(world, client, sign_in, other_tenant):
    other = other_tenant
    api = Api(client, sign_in(other, "zhangsan", roles=(roles.ADMIN,)))
    contact_id = world["contact"]
    for reply in (api.get(f"/api/directory/contacts/{contact_id}"),
                  api.patch(f"/api/directory/contacts/{contact_id}", {"remark": "x"}),
                  api.put(f"/api/directory/contacts/{contact_id}/visible-members", {"userIds": ["zhangsan"]}),
                  api.put(f"/api/directory/contacts/{contact_id}/share-list", {"shareList": {}}),
                  api.get(f"/api/directory/contacts/{contact_id}/audit"),
                  api.delete(f"/api/directory/contacts/{contact_id}")):
        assert reply.status_code == 404 and error_code(reply) == "contact_not_found"
    for node_id in (world["dimension"], world["org"]):
        for reply in (api.get(f"/api/directory/nodes/{node_id}"),
                      api.get(f"/api/directory/nodes/{node_id}/children"),
                      api.patch(f"/api/directory/nodes/{node_id}", {"name": "x"}),
                      api.delete(f"/api/directory/nodes/{node_id}")):
            assert reply.status_code == 404 and error_code(reply) == "node_not_found"
    filed = api.post("/api/directory/contacts", {"name": "越界", "organisationId": world["org"]})
    assert filed.status_code == 400 and error_code(filed) == "organisation_not_found"
    maintainer = api.put(f"/api/directory/dimensions/{world['dimension']}/maintainers/lisi", {})
    assert maintainer.status_code == 404
    by_org = api.get(f"/api/directory/back-office/contacts?organisationId={world['org']}")
    assert by_org.status_code == 400 and error_code(by_org) == "organisation_not_found"
    assert world["contact"] not in [c["contactId"] for c in body(api.get("/api/directory/back-office/contacts"))["contacts"]]
