"""The directory tree through the HTTP routes: who may create, rename, move and delete dimensions, organisations and
departments; deletes refused while something is filed under a node; synced nodes (ids with '#') reached by their
URL-encoded ids and left to the sync."""
from __future__ import annotations

import pytest

from chalicelib.directory import customers
from chalicelib.store import organisations, roles
from tests.integration.api_support import body, error_code
from tests.integration.directory_support import Api, path_id


@pytest.fixture
def admin(client, sign_in, demo_tenant):
    return Api(client, sign_in(demo_tenant, "zhangsan", roles=(roles.ADMIN,)))


@pytest.fixture
def member(client, sign_in, demo_tenant):
    return Api(client, sign_in(demo_tenant, "zhaoliu"))


def test_admin_builds_a_tree_and_lists_it_level_by_level(admin, demo_tenant):
    dimension = admin.node("dimension", "合作伙伴")
    assert dimension["nodeId"].startswith("dim-") and dimension["dimensionId"] == dimension["nodeId"]
    org = admin.node("organisation", "星河贸易", dimension["nodeId"])
    assert org["nodeId"].startswith("org-") and org["dimensionId"] == dimension["nodeId"]
    dept = admin.node("department", "采购部", org["nodeId"])
    sub = admin.node("department", "华南采购", dept["nodeId"])
    assert dept["organisationId"] == org["nodeId"] and sub["organisationId"] == org["nodeId"]

    roots = body(admin.get("/api/directory/nodes"))["nodes"]
    assert [n["nodeId"] for n in roots] == [dimension["nodeId"]]
    children = body(admin.get(f"/api/directory/nodes/{org['nodeId']}/children"))["nodes"]
    assert [(n["nodeId"], n["name"], n["kind"]) for n in children] == [(dept["nodeId"], "采购部", "department")]
    same = body(admin.get(f"/api/directory/nodes?parentId={org['nodeId']}"))["nodes"]
    assert [n["nodeId"] for n in same] == [dept["nodeId"]]
    assert body(admin.get(f"/api/directory/nodes/{org['nodeId']}"))["childCount"] == 1


def test_children_are_paginated_with_a_checked_cursor(admin):
    dimension = admin.node("dimension", "分页")
    made = {admin.node("organisation", f"组织{i}", dimension["nodeId"])["nodeId"] for i in range(5)}
    seen, cursor = [], None
    while True:
        reply = admin.get(f"/api/directory/nodes/{dimension['nodeId']}/children?limit=2"
                          + (f"&cursor={cursor}" if cursor else ""))
        page = body(reply)
        assert len(page["nodes"]) <= 2
        seen += [n["nodeId"] for n in page["nodes"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made)
    other = admin.node("dimension", "另一个")
    first = body(admin.get(f"/api/directory/nodes/{dimension['nodeId']}/children?limit=2"))
    forged = admin.get(f"/api/directory/nodes/{other['nodeId']}/children?cursor={first['nextCursor']}")
    assert forged.status_code == 400 and error_code(forged) == "invalid_cursor"
    garbage = admin.get(f"/api/directory/nodes/{dimension['nodeId']}/children?cursor=not-a-cursor")
    assert garbage.status_code == 400 and error_code(garbage) == "invalid_cursor"


def test_rename_and_move_and_the_refusals(admin):
    dim_a, dim_b = admin.node("dimension", "A"), admin.node("dimension", "B")
    org = admin.node("organisation", "旧名", dim_a["nodeId"])
    dept = admin.node("department", "一部", org["nodeId"])
    sub = admin.node("department", "一组", dept["nodeId"])
    filed = admin.contact(name="跟着走", departmentId=sub["nodeId"])

    renamed = admin.patch(f"/api/directory/nodes/{org['nodeId']}", {"name": "新名"})
    assert renamed.status_code == 200 and body(renamed)["name"] == "新名"

    moved = admin.patch(f"/api/directory/nodes/{org['nodeId']}", {"parentId": dim_b["nodeId"]})
    assert moved.status_code == 200 and body(moved)["parentId"] == dim_b["nodeId"]
    assert body(moved)["dimensionId"] == dim_b["nodeId"]
    assert body(admin.get(f"/api/directory/nodes/{sub['nodeId']}"))["dimensionId"] == dim_b["nodeId"]
    followed = body(admin.get(f"/api/directory/contacts/{filed['contactId']}"))
    assert (followed["dimensionId"], followed["orgName"]) == (dim_b["nodeId"], "新名")
    in_b = body(admin.get(f"/api/directory/back-office/contacts?dimensionId={dim_b['nodeId']}"))["contacts"]
    assert [c["contactId"] for c in in_b] == [filed["contactId"]]
    assert body(admin.get(f"/api/directory/back-office/contacts?dimensionId={dim_a['nodeId']}"))["contacts"] == []
    assert body(admin.get(f"/api/directory/nodes/{dim_a['nodeId']}"))["childCount"] == 0
    assert body(admin.get(f"/api/directory/nodes/{dim_b['nodeId']}"))["childCount"] == 1

    cycle = admin.patch(f"/api/directory/nodes/{dept['nodeId']}", {"parentId": sub["nodeId"]})
    assert cycle.status_code == 400 and error_code(cycle) == "invalid_parent"
    other_org = admin.node("organisation", "别家", dim_b["nodeId"])
    across = admin.patch(f"/api/directory/nodes/{dept['nodeId']}", {"parentId": other_org["nodeId"]})
    assert across.status_code == 400 and error_code(across) == "invalid_parent"
    wrong_kind = admin.post("/api/directory/nodes", {"kind": "department", "name": "x", "parentId": dim_b["nodeId"]})
    assert wrong_kind.status_code == 400 and error_code(wrong_kind) == "invalid_parent"
    no_parent = admin.post("/api/directory/nodes", {"kind": "organisation", "name": "x"})
    assert no_parent.status_code == 400 and error_code(no_parent) == "invalid_parent"
    missing_parent = admin.post("/api/directory/nodes", {"kind": "organisation", "name": "x", "parentId": "dim-nope"})
    assert missing_parent.status_code == 400 and error_code(missing_parent) == "parent_not_found"
    bad_kind = admin.post("/api/directory/nodes", {"kind": "galaxy", "name": "x"})
    assert bad_kind.status_code == 400 and error_code(bad_kind) == "invalid_kind"
    long_name = admin.post("/api/directory/nodes", {"kind": "dimension", "name": "名" * 65})
    assert long_name.status_code == 400 and error_code(long_name) == "invalid_name"


def test_delete_refuses_while_children_or_contacts_exist(admin):
    dimension = admin.node("dimension", "删除")
    org = admin.node("organisation", "组织", dimension["nodeId"])
    dept = admin.node("department", "部门", org["nodeId"])
    contact = admin.contact(name="联系人", departmentId=dept["nodeId"])

    for node in (dimension, org, dept):
        refused = admin.delete(f"/api/directory/nodes/{node['nodeId']}")
        assert refused.status_code == 409 and error_code(refused) == "node_has_children", node["kind"]
        assert "move or delete them first" in body(refused)["error"]["message"]

    assert admin.delete(f"/api/directory/contacts/{contact['contactId']}").status_code == 204
    for node in (dept, org, dimension):
        assert admin.delete(f"/api/directory/nodes/{node['nodeId']}").status_code == 204, node["kind"]
    gone = admin.get(f"/api/directory/nodes/{org['nodeId']}")
    assert gone.status_code == 404 and error_code(gone) == "node_not_found"
    again = admin.delete(f"/api/directory/nodes/{org['nodeId']}")
    assert again.status_code == 404


def test_ordinary_members_read_the_tree_but_do_not_change_it(admin, member):
    dimension = admin.node("dimension", "只读")
    org = admin.node("organisation", "组织", dimension["nodeId"])
    assert member.get(f"/api/directory/nodes/{dimension['nodeId']}/children").status_code == 200
    create_dim = member.post("/api/directory/nodes", {"kind": "dimension", "name": "我的"})
    assert create_dim.status_code == 403 and error_code(create_dim) == "directory_maintainer_required"
    create_org = member.post("/api/directory/nodes", {"kind": "organisation", "name": "x", "parentId": dimension["nodeId"]})
    assert create_org.status_code == 403 and error_code(create_org) == "maintainer_required"
    assert member.patch(f"/api/directory/nodes/{org['nodeId']}", {"name": "改"}).status_code == 403
    assert member.delete(f"/api/directory/nodes/{org['nodeId']}").status_code == 403


def test_dimension_maintainers_manage_inside_their_dimension_only(client, sign_in, demo_tenant, admin):
    mine, theirs = admin.node("dimension", "我的维度"), admin.node("dimension", "别人的维度")
    granted = admin.put(f"/api/directory/dimensions/{mine['nodeId']}/maintainers/wangwu", {})
    assert granted.status_code == 204
    listed = body(admin.get(f"/api/directory/dimensions/{mine['nodeId']}/maintainers"))
    assert listed == {"dimensionId": mine["nodeId"], "userIds": ["wangwu"]}
    maintainer = Api(client, sign_in(demo_tenant, "wangwu"))

    org = maintainer.node("organisation", "维护的组织", mine["nodeId"])
    assert maintainer.patch(f"/api/directory/nodes/{mine['nodeId']}", {"name": "我的维度2"}).status_code == 200
    assert maintainer.post("/api/directory/nodes", {"kind": "organisation", "name": "x",
                                                    "parentId": theirs["nodeId"]}).status_code == 403
    escape = maintainer.patch(f"/api/directory/nodes/{org['nodeId']}", {"parentId": theirs["nodeId"]})
    assert escape.status_code == 403
    assert maintainer.delete(f"/api/directory/nodes/{mine['nodeId']}").status_code == 403  # dimensions: admins
    not_theirs = maintainer.put(f"/api/directory/dimensions/{mine['nodeId']}/maintainers/lisi", {})
    assert not_theirs.status_code == 403
    assert maintainer.delete(f"/api/directory/nodes/{org['nodeId']}").status_code == 204

    assert admin.delete(f"/api/directory/dimensions/{mine['nodeId']}/maintainers/wangwu").status_code == 204
    assert "dim:" + mine["nodeId"] not in roles.roles_of(demo_tenant.tenant_key, "wangwu")
    unknown_dim = admin.put("/api/directory/dimensions/dim-nope/maintainers/wangwu", {})
    assert unknown_dim.status_code == 404 and error_code(unknown_dim) == "node_not_found"
    unknown_member = admin.put(f"/api/directory/dimensions/{mine['nodeId']}/maintainers/nobody", {})
    assert unknown_member.status_code == 404 and error_code(unknown_member) == "member_not_found"


def test_synced_nodes_are_reached_by_encoded_ids_and_left_to_the_sync(admin, demo_tenant, simulator):
    tenant = demo_tenant
    customers.refresh(tenant, _client(tenant), "wmYQdemocb7524d792327e4c443d619d")
    dim_id = organisations.CUSTOMER_DIMENSION_ID
    encoded = path_id(dim_id)
    assert "%23" in encoded
    reply = admin.get(f"/api/directory/nodes/{encoded}")
    assert reply.status_code == 200 and body(reply)["nodeId"] == dim_id and body(reply)["synced"] is True
    kids = body(admin.get(f"/api/directory/nodes/{encoded}/children"))["nodes"]
    org_id = organisations.customer_corp_id("深圳星河贸易有限公司")
    assert [n["nodeId"] for n in kids] == [org_id]
    roots = [n["nodeId"] for n in body(admin.get("/api/directory/nodes"))["nodes"]]
    assert dim_id in roots
    for attempt in (admin.patch(f"/api/directory/nodes/{path_id(org_id)}", {"name": "改名"}),
                    admin.delete(f"/api/directory/nodes/{path_id(org_id)}")):
        assert attempt.status_code == 409 and error_code(attempt) == "node_synced"
    # People may still file their own departments under a synced organisation.
    dept = admin.node("department", "对接部门", org_id)
    assert dept["dimensionId"] == dim_id and dept["organisationId"] == org_id
    assert admin.delete(f"/api/directory/nodes/{dept['nodeId']}").status_code == 204


def _client(tenant):
    from chalicelib.tenants.wecom_clients import client_for_tenant

    return client_for_tenant(tenant)


def test_synced_nodes_report_the_organisations_and_contacts_the_sync_filed_under_them(admin, demo_tenant, simulator):
    from chalicelib.store import contacts

    tenant = demo_tenant
    for external_userid in ("wmYQdemoa9f7e97965d6cf799a529102", "wmYQdemo9ab62b5ef34a985438bfdf7e",
                            "wmYQdemocb7524d792327e4c443d619d"):
        customers.refresh(tenant, _client(tenant), external_userid)
    encoded = path_id(organisations.CUSTOMER_DIMENSION_ID)
    shown = {n["nodeId"]: n for n in body(admin.get(f"/api/directory/nodes/{encoded}/children"))["nodes"]}
    for node_id, node in shown.items():
        filed = [c for c in contacts.in_organisation(tenant.tenant_key, node_id)]
        assert filed and node["contactCount"] == len(filed), (node["name"], node["contactCount"], len(filed))
    assert sum(node["contactCount"] for node in shown.values()) == 3
    dimension = body(admin.get(f"/api/directory/nodes/{encoded}"))
    assert dimension["childCount"] == len(shown) > 0
    one = next(iter(shown))
    assert body(admin.get(f"/api/directory/nodes/{path_id(one)}"))["contactCount"] == shown[one]["contactCount"]
