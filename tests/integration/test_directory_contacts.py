"""Contacts through the HTTP routes: create with defaults, validation (nothing changes on a bad input), edit and
refile, visible members and share list, delete, the front list (grouped by organisation, search, pagination, one
Query per page, checked cursors), the back-office list, and the audit trail."""
from __future__ import annotations

import pytest

from chalicelib.directory import contact_writes
from chalicelib.directory import contacts as directory
from chalicelib.core.errors import Conflict
from chalicelib.auth.identity import Caller
from chalicelib.store import contact_access, roles
from chalicelib.store import contacts as contact_store
from chalicelib.store.base import transact
from tests.integration.api_support import body, error_code
from tests.integration.directory_support import Api, front_list_ids


@pytest.fixture
def admin(client, sign_in, demo_tenant):
    return Api(client, sign_in(demo_tenant, "zhangsan", roles=(roles.ADMIN,)))


@pytest.fixture
def lisi(client, sign_in, demo_tenant):
    return Api(client, sign_in(demo_tenant, "lisi"))


@pytest.fixture
def zhaoliu(client, sign_in, demo_tenant):
    return Api(client, sign_in(demo_tenant, "zhaoliu"))


@pytest.fixture
def tree(admin):
    dimension = admin.node("dimension", "客户")
    org = admin.node("organisation", "星河贸易", dimension["nodeId"])
    dept = admin.node("department", "采购部", org["nodeId"])
    other_org = admin.node("organisation", "云海科技", dimension["nodeId"])
    return {"dimension": dimension["nodeId"], "org": org["nodeId"], "dept": dept["nodeId"],
            "other_org": other_org["nodeId"]}


def test_a_member_adds_a_contact_with_the_defaults(lisi, tree):
    made = lisi.contact(name=" 陈经理 ", mobile="138 0013 8000", email="Chen@Example.com", departmentId=tree["dept"],
                        position="采购经理", remark="展会认识")
    assert made["contactId"].startswith("ct-")
    assert {key: made[key] for key in ("name", "mobile", "email", "organisationId", "departmentId", "dimensionId",
                                       "orgName", "source", "adderId", "visibleMembers", "shareList",
                                       "securityLevel", "accountStatus", "accountName")} == {
        "name": "陈经理", "mobile": "13800138000", "email": "chen@example.com", "organisationId": tree["org"],
        "departmentId": tree["dept"], "dimensionId": tree["dimension"], "orgName": "星河贸易", "source": "manual",
        "adderId": "lisi", "visibleMembers": ["lisi"], "shareList": {}, "securityLevel": 0, "accountStatus": "none",
        "accountName": None}
    assert made["permissions"] == {"edit": True, "share": True, "account": True, "delete": True}
    assert body(lisi.get(f"/api/directory/contacts/{made['contactId']}"))["name"] == "陈经理"
    page = body(lisi.get("/api/directory/contacts"))
    assert page["groups"] == [{"organisationId": tree["org"], "orgName": "星河贸易", "contacts": [{
        "contactId": made["contactId"], "name": "陈经理", "mobile": "13800138000", "email": "chen@example.com",
        "position": "采购经理", "orgName": "星河贸易", "source": "manual"}]}]
    assert page["nextCursor"] is None


def test_the_security_level_defaults_to_the_tenant_setting(demo_tenant):
    demo_tenant.settings.default_security_level = -7
    made = directory.create_contact(demo_tenant, {"name": "默认密级"}, source="manual", adder_id="lisi", actor="lisi")
    assert made.security_level == -7
    chosen = directory.create_contact(demo_tenant, {"name": "指定密级", "securityLevel": -999}, source="manual",
                                      adder_id="lisi", actor="lisi")
    assert chosen.security_level == -999


@pytest.mark.parametrize("fields, code", [
    ({"name": ""}, "invalid_name"),
    ({"mobile": "13800138000"}, "invalid_name"),
    ({"name": "名" * 65}, "invalid_name"),
    ({"name": "x", "mobile": "12800138000"}, "invalid_mobile"),
    ({"name": "x", "mobile": "1380013800"}, "invalid_mobile"),
    ({"name": "x", "mobile": "+86abc"}, "invalid_mobile"),
    ({"name": "x", "email": "not-an-email"}, "invalid_email"),
    ({"name": "x", "email": "a@b"}, "invalid_email"),
    ({"name": "x", "position": "职" * 65}, "invalid_position"),
    ({"name": "x", "remark": "备" * 501}, "invalid_remark"),
    ({"name": "x", "securityLevel": 1}, "invalid_security_level"),
    ({"name": "x", "securityLevel": -1000}, "invalid_security_level"),
    ({"name": "x", "securityLevel": "0"}, "invalid_security_level"),
    ({"name": "x", "securityLevel": True}, "invalid_security_level"),
    ({"name": "x", "organisationId": "org-nope"}, "organisation_not_found"),
    ({"name": "x", "departmentId": "dep-nope"}, "department_not_found"),
    ({"name": "x", "source": "wecom_customer"}, "unknown_field"),
    ({"name": "x", "adderId": "zhangsan"}, "unknown_field"),
    ({"name": "x", "visibleMembers": "lisi"}, "invalid_visible_members"),
    ({"name": "x", "visibleMembers": ["nobody-here"]}, "member_not_found"),
    ({"name": "x", "shareList": {"zhaoliu": {"permission": "owner"}}}, "invalid_share_list"),
])
def test_bad_input_is_a_400_with_a_clear_code_and_nothing_changes(lisi, fields, code):
    reply = lisi.post("/api/directory/contacts", fields)
    assert reply.status_code == 400 and error_code(reply) == code, reply.body
    assert front_list_ids(lisi) == []


def test_plus_country_numbers_and_a_department_in_another_organisation(lisi, tree):
    made = lisi.contact(name="Smith", mobile="+447911123456")
    assert made["mobile"] == "+447911123456" and made["organisationId"] is None
    mismatch = lisi.post("/api/directory/contacts", {"name": "x", "organisationId": tree["other_org"],
                                                     "departmentId": tree["dept"]})
    assert mismatch.status_code == 400 and error_code(mismatch) == "department_not_in_organisation"
    organisation_as_department = lisi.post("/api/directory/contacts", {"name": "x", "departmentId": tree["org"]})
    assert error_code(organisation_as_department) == "department_not_found"


def test_edit_and_refile_keep_the_front_list_and_the_counts_in_step(admin, lisi, tree):
    made = lisi.contact(name="陈经理", departmentId=tree["dept"])
    path = f"/api/directory/contacts/{made['contactId']}"
    edited = lisi.patch(path, {"name": "陈总", "mobile": "13900139000", "remark": None})
    assert edited.status_code == 200
    assert (body(edited)["name"], body(edited)["mobile"], body(edited)["version"]) == ("陈总", "13900139000", 1)
    bad = lisi.patch(path, {"email": "nope"})
    assert bad.status_code == 400 and error_code(bad) == "invalid_email"
    assert body(lisi.get(path))["email"] is None
    read_only = lisi.patch(path, {"adderId": "zhaoliu"})
    assert read_only.status_code == 400 and error_code(read_only) == "unknown_field"
    blank = lisi.patch(path, {"name": " "})
    assert blank.status_code == 400 and error_code(blank) == "invalid_name"

    moved = lisi.patch(path, {"organisationId": tree["other_org"]})
    assert moved.status_code == 200
    assert (body(moved)["organisationId"], body(moved)["departmentId"], body(moved)["orgName"]) == (
        tree["other_org"], None, "云海科技")
    groups = body(lisi.get("/api/directory/contacts"))["groups"]
    assert [(g["organisationId"], [c["name"] for c in g["contacts"]]) for g in groups] == [(tree["other_org"], ["陈总"])]
    assert body(admin.get(f"/api/directory/nodes/{tree['dept']}"))["contactCount"] == 0
    assert body(admin.get(f"/api/directory/nodes/{tree['other_org']}"))["contactCount"] == 1
    assert admin.delete(f"/api/directory/nodes/{tree['dept']}").status_code == 204

    renamed = admin.patch(f"/api/directory/nodes/{tree['other_org']}", {"name": "云海集团"})
    assert renamed.status_code == 200
    assert body(lisi.get(path))["orgName"] == "云海集团"
    assert body(lisi.get("/api/directory/contacts"))["groups"][0]["orgName"] == "云海集团"


def test_a_stale_write_is_refused_instead_of_overwriting(demo_tenant):
    made = directory.create_contact(demo_tenant, {"name": "并发"}, source="manual", adder_id="lisi", actor="lisi")
    stale = contact_store.get(demo_tenant.tenant_key, made.contact_id)
    directory.apply_edit(made, {"remark": "first"}, actor="lisi")
    with pytest.raises(Conflict) as refused:
        directory.apply_edit(stale, {"remark": "second"}, actor="zhangsan")
    assert refused.value.code == "contact_changed"
    assert contact_store.get(demo_tenant.tenant_key, made.contact_id).remark == "first"


def test_visible_members_and_share_list_decide_who_sees_the_contact(lisi, zhaoliu, client, sign_in, demo_tenant):
    made = lisi.contact(name="共享的人")
    path = f"/api/directory/contacts/{made['contactId']}"
    assert zhaoliu.get(path).status_code == 404

    added = lisi.put(f"{path}/visible-members", {"userIds": ["lisi", "zhaoliu"]})
    assert added.status_code == 200 and body(added)["visibleMembers"] == ["lisi", "zhaoliu"]
    assert zhaoliu.get(path).status_code == 200 and made["contactId"] in front_list_ids(zhaoliu)
    assert zhaoliu.put(f"{path}/visible-members", {"userIds": ["zhaoliu"]}).status_code == 403

    removed = lisi.put(f"{path}/visible-members", {"userIds": []})
    assert removed.status_code == 200
    assert zhaoliu.get(path).status_code == 404 and front_list_ids(zhaoliu) == []
    assert lisi.get(path).status_code == 200 and front_list_ids(lisi) == [made["contactId"]]  # the adder stays

    shared = lisi.put(f"{path}/share-list", {"shareList": {"zhaoliu": {"permission": "edit"}}})
    assert shared.status_code == 200 and body(shared)["shareList"] == {"zhaoliu": {"permission": "edit"}}
    as_editor = body(zhaoliu.get(path))
    assert as_editor["permissions"]["share"] and "accountStatus" not in as_editor
    sunqi = Api(client, sign_in(demo_tenant, "sunqi"))
    assert zhaoliu.put(f"{path}/share-list", {"shareList": {"zhaoliu": {"permission": "edit"},
                                                            "sunqi": {"permission": "view"}}}).status_code == 200
    assert sunqi.get(path).status_code == 200 and front_list_ids(sunqi) == [made["contactId"]]
    assert sunqi.put(f"{path}/share-list", {"shareList": {}}).status_code == 403
    for bad, code in (({"shareList": {"sunqi": {"permission": "admin"}}}, "invalid_share_list"),
                      ({"shareList": ["sunqi"]}, "invalid_share_list"),
                      ({"shareList": {"ghost": {"permission": "view"}}}, "member_not_found")):
        reply = lisi.put(f"{path}/share-list", bad)
        assert reply.status_code == 400 and error_code(reply) == code
    bad_members = lisi.put(f"{path}/visible-members", {"userIds": "zhaoliu"})
    assert bad_members.status_code == 400 and error_code(bad_members) == "invalid_visible_members"


def test_delete_removes_it_everywhere_but_the_audit_trail_stays(admin, lisi, zhaoliu):
    made = lisi.contact(name="要删的", visibleMembers=["lisi", "zhaoliu"])
    path = f"/api/directory/contacts/{made['contactId']}"
    assert made["contactId"] in front_list_ids(zhaoliu)
    assert zhaoliu.delete(path).status_code == 403
    assert lisi.delete(path).status_code == 204
    assert lisi.get(path).status_code == 404 and zhaoliu.get(path).status_code == 404
    assert front_list_ids(lisi) == [] and front_list_ids(zhaoliu) == []
    assert lisi.delete(path).status_code == 404
    trail = admin.get(f"{path}/audit")
    assert trail.status_code == 200
    assert [entry["action"] for entry in body(trail)["entries"]] == ["delete", "create"]
    assert lisi.get(f"{path}/audit").status_code == 404  # the adder no longer sees anything
    assert admin.get("/api/directory/contacts/ct-0000000000000000/audit").status_code == 404


def test_the_audit_trail_records_who_when_and_only_what_changed(lisi, tree):
    made = lisi.contact(name="审计", mobile="13800138000", organisationId=tree["org"])
    path = f"/api/directory/contacts/{made['contactId']}"
    lisi.patch(path, {"mobile": "13900139000", "name": "审计"})
    lisi.put(f"{path}/visible-members", {"userIds": ["lisi", "zhaoliu"]})
    lisi.put(f"{path}/share-list", {"shareList": {"sunqi": {"permission": "view"}}})
    entries = body(lisi.get(f"{path}/audit"))["entries"]
    assert [e["action"] for e in entries] == ["share_list", "visible_members", "edit", "create"]
    assert all(e["actor"] == "lisi" and e["at"] for e in entries)
    assert entries[0]["before"] == {"shareList": {}} and entries[0]["after"] == {
        "shareList": {"sunqi": {"permission": "view"}}}
    assert entries[1]["before"] == {"visibleMembers": ["lisi"]}
    assert entries[1]["after"] == {"visibleMembers": ["lisi", "zhaoliu"]}
    assert entries[2]["before"] == {"mobile": "13800138000"} and entries[2]["after"] == {"mobile": "13900139000"}
    assert entries[3]["before"] == {} and entries[3]["after"]["name"] == "审计"
    assert entries[3]["after"]["organisationId"] == tree["org"]

    first = body(lisi.get(f"{path}/audit?limit=3"))
    assert len(first["entries"]) == 3 and first["nextCursor"]
    rest = body(lisi.get(f"{path}/audit?limit=3&cursor={first['nextCursor']}"))
    assert [e["action"] for e in rest["entries"]] == ["create"]
    other = lisi.contact(name="别的")
    forged = lisi.get(f"/api/directory/contacts/{other['contactId']}/audit?cursor={first['nextCursor']}")
    assert forged.status_code == 400 and error_code(forged) == "invalid_cursor"


def test_saving_what_is_already_there_records_nothing(lisi, tree):
    made = lisi.contact(name="原样", mobile="13800138000", organisationId=tree["org"])
    path = f"/api/directory/contacts/{made['contactId']}"
    assert lisi.put(f"{path}/share-list", {"shareList": {}}).status_code == 200
    assert lisi.put(f"{path}/visible-members", {"userIds": ["lisi"]}).status_code == 200
    assert lisi.patch(path, {"name": "原样", "mobile": "13800138000"}).status_code == 200
    assert [e["action"] for e in body(lisi.get(f"{path}/audit"))["entries"]] == ["create"]


def _seed_for_search(demo_tenant, tree) -> dict[str, str]:
    people = [("陈一", "13800000001", "chen1@alpha.com", tree["org"]),
              ("陈二", "13800000002", "chen2@beta.com", tree["other_org"]),
              ("王三", "13900000003", "wang3@alpha.com", tree["org"]),
              ("王四", "13900000004", "WANG4@gamma.com", tree["other_org"]),
              ("李五", "+85291234567", "li5@alpha.com", None),
              ("李六", "13700000006", "li6@delta.com", tree["org"]),
              ("赵七", "13600000007", "zhao7@alpha.com", tree["other_org"])]
    made = {}
    for name, mobile, email, org in people:
        fields = {"name": name, "mobile": mobile, "email": email}
        if org:
            fields["organisationId"] = org
        made[name] = directory.create_contact(demo_tenant, fields, source="manual", adder_id="lisi",
                                              actor="lisi").contact_id
    return made


def test_front_list_pages_group_by_organisation_and_search(lisi, demo_tenant, tree):
    made = _seed_for_search(demo_tenant, tree)
    pages, cursor = [], None
    while True:
        reply = lisi.get("/api/directory/contacts?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status_code == 200
        pages.append(body(reply))
        cursor = pages[-1]["nextCursor"]
        if not cursor:
            break
    flat = [(g["organisationId"], c["contactId"]) for p in pages for g in p["groups"] for c in g["contacts"]]
    assert sorted(cid for _, cid in flat) == sorted(made.values()) and len(flat) == len(set(flat))
    assert all(len([c for g in p["groups"] for c in g["contacts"]]) <= 3 for p in pages)
    orgs_in_order = [org for org, _ in flat]
    assert orgs_in_order == sorted(orgs_in_order, key=lambda o: (o is None, o or ""))  # grouped, no-org last
    assert orgs_in_order[-1] is None

    def search(q: str) -> set[str]:
        return set(front_list_ids(lisi, q=q, limit=2))

    assert search("陈") == {made["陈一"], made["陈二"]}
    assert search("1390000") == {made["王三"], made["王四"]}
    assert search("ALPHA.COM") == {made["陈一"], made["王三"], made["李五"], made["赵七"]}
    assert search("wang4@") == {made["王四"]}
    assert search("+852") == {made["李五"]}
    assert search("nobody") == set()


def test_front_list_cursor_limit_and_query_are_checked(lisi, zhaoliu, demo_tenant, tree):
    _seed_for_search(demo_tenant, tree)
    first = body(lisi.get("/api/directory/contacts?limit=2"))
    assert first["nextCursor"]
    stolen = zhaoliu.get(f"/api/directory/contacts?cursor={first['nextCursor']}")
    assert stolen.status_code == 400 and error_code(stolen) == "invalid_cursor"
    for query, code in (("limit=0", "invalid_limit"), ("limit=201", "invalid_limit"), ("limit=x", "invalid_limit"),
                        ("cursor=%%%", "invalid_cursor"), ("q=" + "a" * 65, "invalid_query")):
        reply = lisi.get(f"/api/directory/contacts?{query}")
        assert reply.status_code == 400 and error_code(reply) == code, query


def test_front_list_is_one_query_per_page(lisi, demo_tenant, tree, monkeypatch):
    from pynamodb.connection.base import Connection

    _seed_for_search(demo_tenant, tree)
    calls: list[tuple[str, str]] = []
    real = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        calls.append((operation_name, operation_kwargs.get("TableName", "")))
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    for query in ("limit=3", "limit=3&q=alpha"):
        calls.clear()
        assert lisi.get(f"/api/directory/contacts?{query}").status_code == 200
        directory_calls = [c for c in calls if c[1].endswith(("-contact-access", "-contacts", "-organisations"))]
        assert directory_calls == [("Query", contact_access.AccessEntry.Meta.table_name)], calls


def test_back_office_lists_by_tenant_dimension_organisation_and_department(admin, client, sign_in, demo_tenant, tree):
    in_dept = directory.create_contact(demo_tenant, {"name": "部门里", "departmentId": tree["dept"]}, source="manual",
                                       adder_id="lisi", actor="lisi").contact_id
    in_org = directory.create_contact(demo_tenant, {"name": "组织里", "organisationId": tree["org"]},
                                      source="manual", adder_id="lisi", actor="lisi").contact_id
    elsewhere = directory.create_contact(demo_tenant, {"name": "别处", "organisationId": tree["other_org"]},
                                         source="manual", adder_id="lisi", actor="lisi").contact_id
    loose = directory.create_contact(demo_tenant, {"name": "无组织"}, source="manual", adder_id="lisi",
                                     actor="lisi").contact_id

    def ids(api, query=""):
        found, cursor = [], None
        while True:
            reply = api.get(f"/api/directory/back-office/contacts?limit=2{query}" + (f"&cursor={cursor}" if cursor else ""))
            assert reply.status_code == 200, reply.body
            found += [c["contactId"] for c in body(reply)["contacts"]]
            cursor = body(reply)["nextCursor"]
            if not cursor:
                return set(found)

    assert ids(admin) == {in_dept, in_org, elsewhere, loose}
    assert ids(admin, f"&dimensionId={tree['dimension']}") == {in_dept, in_org, elsewhere}
    assert ids(admin, f"&organisationId={tree['org']}") == {in_dept, in_org}
    assert ids(admin, f"&departmentId={tree['dept']}") == {in_dept}
    row = next(c for c in body(admin.get(f"/api/directory/back-office/contacts?departmentId={tree['dept']}"))["contacts"])
    assert (row["name"], row["accountStatus"], row["adderId"], row["dimensionId"]) == (
        "部门里", "none", "lisi", tree["dimension"])

    second = admin.node("dimension", "第二维度")
    second_org = admin.node("organisation", "二组织", second["nodeId"])
    there = directory.create_contact(demo_tenant, {"name": "二维度的", "organisationId": second_org["nodeId"]},
                                     source="manual", adder_id="lisi", actor="lisi").contact_id
    role_a, role_b = roles.dimension_role(tree["dimension"]), roles.dimension_role(second["nodeId"])
    wangwu = Api(client, sign_in(demo_tenant, "wangwu", roles=(role_a, role_b)))
    assert ids(wangwu) == {in_dept, in_org, elsewhere, there}
    assert ids(wangwu, f"&dimensionId={second['nodeId']}") == {there}
    sunqi = Api(client, sign_in(demo_tenant, "sunqi", roles=(role_b,)))
    assert ids(sunqi) == {there}
    refused = sunqi.get(f"/api/directory/back-office/contacts?dimensionId={tree['dimension']}")
    assert refused.status_code == 403 and error_code(refused) == "maintainer_required"
    assert sunqi.get(f"/api/directory/back-office/contacts?organisationId={tree['org']}").status_code == 403


def test_describe_hides_account_information_from_view_only_members(demo_tenant):
    made = directory.create_contact(demo_tenant, {"name": "账号", "visibleMembers": ["lisi", "zhaoliu"]},
                                    source="manual", adder_id="lisi", actor="lisi")
    key = demo_tenant.tenant_key
    assert contact_writes.move_account_status(key, made.contact_id, "pending", ("none",), transact)
    assert not contact_writes.move_account_status(key, made.contact_id, "pending", ("none",), transact)
    assert contact_writes.move_account_status(key, made.contact_id, "opened", ("pending",), transact,
                                              account_name="yqabc")
    stored = contact_store.get(demo_tenant.tenant_key, made.contact_id)
    adder = directory.describe(stored, Caller(demo_tenant.tenant_key, "lisi"))
    viewer = directory.describe(stored, Caller(demo_tenant.tenant_key, "zhaoliu"))
    assert (adder["accountStatus"], adder["accountName"]) == ("opened", "yqabc")
    assert "accountStatus" not in viewer and "accountName" not in viewer
