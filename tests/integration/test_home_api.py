"""The external home API: the home and its sections, lists newest first with cursors, isolation between contacts and
between tenants by any id on any route, what a session must be to pass, and the home's cost in DynamoDB requests."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.api_support import body
from tests.integration.sharing_support import (
    CHEN,
    HUANG,
    LIN,
    contact_headers,
    dynamodb_requests,
    register,
    share,
    sync_customer,
)

DEMO = Path(__file__).resolve().parents[2] / "dev" / "scenarios" / "demo.json"


@pytest.fixture
def owner(demo_tenant, sign_in):
    return sign_in(demo_tenant, "zhangsan")


def _get(client, path: str, headers: dict):
    return client.http.get(path, headers=headers)


def _share_new(client, owner, kind: str, item_id: str, contact, **fields) -> None:
    register(client, owner, kind, item_id, **fields)
    share(client, owner, kind, item_id, contact.contact_id)


# --- the home ------------------------------------------------------------------------------------------------------
def test_the_home_counts_and_shows_the_newest_three_per_kind_and_section(client, demo_tenant, owner, chen):
    for n in range(1, 5):
        _share_new(client, owner, "task", f"T-{n}", chen, title=f"任务{n}", summary="长" * 300)
    _share_new(client, owner, "project", "P-1", chen, title="项目一")
    _share_new(client, owner, "crm_record", "C-1", chen, title="客户档案")
    home = body(_get(client, "/api/external/home", contact_headers(demo_tenant, chen.contact_id)))
    assert home["contact"] == {"contactId": chen.contact_id, "name": "陈先生"}
    assert home["tenant"]["tenantKey"] == demo_tenant.tenant_key
    assert home["counts"] == {"project": 1, "task": 4, "approval": 0, "form": 0, "form_record": 0, "document": 0,
                              "schedule": 0, "crm_record": 1}
    assert [i["title"] for i in home["latest"]["task"]] == ["任务4", "任务3", "任务2"]
    card = home["latest"]["task"][0]
    assert set(card) == {"itemId", "kind", "title", "summary", "status", "owner", "url", "updatedAt", "sharedAt"}
    assert len(card["summary"]) == 140 and card["owner"] == {"userId": "zhangsan", "name": "张三"}
    sections = {s["key"]: s for s in home["sections"]}
    assert [s["key"] for s in home["sections"]] == ["tasks", "approvals", "forms", "documents", "schedules", "crm"]
    assert sections["tasks"]["label"] == "项目任务" and sections["tasks"]["count"] == 5
    assert [i["title"] for i in sections["tasks"]["latest"]] == ["项目一", "任务4", "任务3"]
    assert sections["crm"]["count"] == 1 and sections["approvals"] == {"key": "approvals", "label": "审批",
                                                                       "kinds": ["approval"], "count": 0,
                                                                       "latest": []}


def test_a_contact_with_nothing_shared_gets_an_empty_home(client, demo_tenant, lin):
    home = body(_get(client, "/api/external/home", contact_headers(demo_tenant, lin.contact_id)))
    assert all(count == 0 for count in home["counts"].values()) and home["notices"] == []
    assert all(s["latest"] == [] for s in home["sections"])


def test_the_home_costs_two_dynamodb_requests_however_many_items_the_tenant_has(client, demo_tenant, owner, chen,
                                                                               lin):
    headers = contact_headers(demo_tenant, chen.contact_id)
    _share_new(client, owner, "task", "T-mine", chen)
    assert _get(client, "/api/external/home", headers).status_code == 200  # the tenant is now in the process cache
    with dynamodb_requests() as few:
        assert _get(client, "/api/external/home", headers).status_code == 200
    for n in range(12):  # four of each kind: more than the home shows of one
        _share_new(client, owner, ["task", "document", "approval"][n % 3], f"O-{n}", lin)
    with dynamodb_requests() as many:
        home = body(_get(client, "/api/external/home", headers))
    assert home["counts"]["task"] == 1
    assert few == many == ["GetItem", "BatchGetItem"]  # the session, then contact + account + home summary


def test_a_cold_process_reads_the_tenant_with_the_home_and_refuses_a_disabled_one(client, demo_tenant, owner, chen,
                                                                                 monkeypatch):
    """A process that has not read the tenant within the minute (a cold start) reads it in the home's batch: still
    two requests; a disabled tenant is refused as on every session route, and a disabled one read warm as well."""
    from chalicelib.store import tenants

    headers = contact_headers(demo_tenant, chen.contact_id)
    _share_new(client, owner, "task", "T-cold", chen)
    monkeypatch.setattr(tenants, "_recent", {})
    with dynamodb_requests() as cold:
        home = body(_get(client, "/api/external/home", headers))
    assert cold == ["GetItem", "BatchGetItem"] and home["tenant"]["tenantKey"] == demo_tenant.tenant_key
    assert home["counts"]["task"] == 1
    tenants.set_enabled(tenants.get(demo_tenant.tenant_key), False)
    for recent in ({}, {demo_tenant.tenant_key: (float("inf"), tenants.get(demo_tenant.tenant_key))}):
        monkeypatch.setattr(tenants, "_recent", recent)
        refused = _get(client, "/api/external/home", headers)
        assert refused.status_code == 404 and body(refused)["error"]["code"] == "tenant_not_found"


# --- lists ---------------------------------------------------------------------------------------------------------
def test_lists_are_newest_first_and_follow_their_cursor_to_the_end(client, demo_tenant, owner, chen):
    for n in range(1, 8):
        _share_new(client, owner, "document", f"D-{n}", chen, title=f"文档{n}")
    headers = contact_headers(demo_tenant, chen.contact_id)
    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/external/items?kind=document&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = body(_get(client, path, headers))
        seen += [i["title"] for i in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [f"文档{n}" for n in range(7, 0, -1)] and pages == 3


def test_a_section_list_merges_its_kinds_by_share_time(client, demo_tenant, owner, chen):
    order = [("task", "T-1"), ("project", "P-1"), ("task", "T-2"), ("task", "T-3"), ("project", "P-2")]
    for kind, item_id in order:
        _share_new(client, owner, kind, item_id, chen)
    headers = contact_headers(demo_tenant, chen.contact_id)
    first = body(_get(client, "/api/external/items?section=tasks&limit=2", headers))
    second = body(_get(client, f"/api/external/items?section=tasks&limit=2&cursor={first['nextCursor']}", headers))
    third = body(_get(client, f"/api/external/items?section=tasks&limit=2&cursor={second['nextCursor']}", headers))
    ids = [i["itemId"] for page in (first, second, third) for i in page["items"]]
    assert ids == ["P-2", "T-3", "T-2", "P-1", "T-1"] and third["nextCursor"] is None
    by_kinds = body(_get(client, "/api/external/items?kind=project,task&limit=10", headers))
    assert [i["itemId"] for i in by_kinds["items"]] == ids


@pytest.mark.parametrize("query, code", [
    ("", "invalid_kind"),
    ("?kind=memo", "invalid_kind"),
    ("?section=nope", "unknown_section"),
    ("?kind=task&section=tasks", "invalid_kind"),
    ("?kind=task&limit=0", "invalid_limit"),
    ("?kind=task&limit=51", "invalid_limit"),
    ("?kind=task&cursor=garbage!", "invalid_cursor"),
    ("?kind=task&cursor=eyJhZnRlciI6eyJ0YXNrIjoiZiN0YXNrI3gifX0", "invalid_cursor"),  # a well-formed payload, unsigned
])
def test_list_parameters_are_checked(client, demo_tenant, chen, query, code):
    reply = _get(client, f"/api/external/items{query}", contact_headers(demo_tenant, chen.contact_id))
    assert reply.status_code == 400 and body(reply)["error"]["code"] == code


def test_a_cursor_is_refused_by_another_contact_and_by_another_kinds_list(client, demo_tenant, owner, chen, lin):
    for n in range(3):
        _share_new(client, owner, "task", f"T-{n}", chen)
        _share_new(client, owner, "project", f"P-{n}", chen)
    _share_new(client, owner, "task", "T-lin", lin)
    chen_headers, lin_headers = (contact_headers(demo_tenant, c.contact_id) for c in (chen, lin))
    tasks = body(_get(client, "/api/external/items?kind=task&limit=1", chen_headers))
    projects = body(_get(client, "/api/external/items?kind=project&limit=1", chen_headers))
    assert tasks["nextCursor"] and projects["nextCursor"]
    for headers, kind, cursor in ((lin_headers, "task", tasks["nextCursor"]),
                                  (chen_headers, "task", projects["nextCursor"])):
        reply = _get(client, f"/api/external/items?kind={kind}&limit=1&cursor={cursor}", headers)
        assert reply.status_code == 400 and body(reply)["error"]["code"] == "invalid_cursor"
    following = body(_get(client, f"/api/external/items?kind=task&limit=1&cursor={tasks['nextCursor']}", chen_headers))
    assert [i["itemId"] for i in following["items"]] == ["T-1"]


# --- isolation -----------------------------------------------------------------------------------------------------
ROUTES = [  # (method, path, body, the status of the caller's own item)
    ("GET", "/api/external/items/{kind}/{item}", None, 200),
    ("POST", "/api/external/items/{kind}/{item}/comments", {"text": "看看"}, 201),
    ("POST", "/api/external/items/{kind}/{item}/submissions", {"values": {"company": "x"}}, 201),
]


@pytest.fixture(scope="module")
def two_contacts_two_tenants(module_client, module_demo_tenant, module_sign_in):
    """Tenant X (a demo tenant): 陈先生 has T-1 and F-1, 林女士 has T-2 and F-2. Tenant Y, bound to the same corp:
    its own 陈先生 has its own T-1 (another title). Built once: the tests only read it (a comment or a submission on
    陈先生's F-1 changes nothing they read)."""
    from chalicelib.tenants import onboarding
    from dev.seed import seed

    client, demo_tenant, sign_in = module_client, module_demo_tenant, module_sign_in
    owner = sign_in(demo_tenant, "zhangsan")
    chen, lin = sync_customer(demo_tenant, CHEN), sync_customer(demo_tenant, LIN)
    _share_new(client, owner, "task", "T-1", chen, title="X 的任务")
    _share_new(client, owner, "form", "F-1", chen)
    _share_new(client, owner, "task", "T-2", lin, title="林的任务")
    _share_new(client, owner, "form", "F-2", lin)
    other = seed(DEMO, onboarding.new_tenant_key())
    other_chen = sync_customer(other, CHEN)
    _share_new(client, sign_in(other, "zhangsan"), "task", "T-1", other_chen, title="Y 的任务")
    return {"chen": contact_headers(demo_tenant, chen.contact_id), "lin": contact_headers(demo_tenant, lin.contact_id),
            "other_chen": contact_headers(other, other_chen.contact_id)}


def _call(client, method: str, path: str, payload, headers):
    if method == "GET":
        return client.http.get(path, headers=headers)
    return client.http.post(path, headers=headers, body=json.dumps(payload))


STRANGERS = [
    ("chen", "task", "T-2"),  # another contact's item, same tenant
    ("chen", "form", "F-2"),
    ("lin", "task", "T-1"),
    ("lin", "form", "F-1"),
    ("other_chen", "form", "F-1"),  # another tenant's item
    ("chen", "task", "T-404"),  # no such item
    ("chen", "memo", "T-1"),  # no such kind
    ("chen", "task", "a%23b"),  # not an id at all
]


@pytest.mark.parametrize("method, template, payload, own_status", ROUTES)
def test_no_contact_reaches_an_item_not_shared_with_them(client, two_contacts_two_tenants, method, template, payload,
                                                         own_status):
    for who, kind, item in STRANGERS:
        reply = _call(client, method, template.format(kind=kind, item=item), payload, two_contacts_two_tenants[who])
        assert reply.status_code == 404, (who, kind, item)
        assert body(reply)["error"] == {"code": "item_not_found", "message": "该内容未共享给您，或已不再共享"}
    own = _call(client, method, template.format(kind="form", item="F-1"), payload, two_contacts_two_tenants["chen"])
    assert own.status_code == own_status, own.body  # the same route with the caller's own item works


def test_each_contact_and_tenant_sees_only_its_own(client, two_contacts_two_tenants):
    headers = two_contacts_two_tenants

    def everything(who: str) -> set[tuple[str, str]]:
        home = body(_get(client, "/api/external/home", headers[who]))
        listed = body(_get(client, "/api/external/items?kind=task,form&limit=50", headers[who]))["items"]
        return {(i["itemId"], i["title"]) for i in listed} | {
            (i["itemId"], i["title"]) for cards in home["latest"].values() for i in cards}

    assert everything("chen") == {("T-1", "X 的任务"), ("F-1", "form F-1")}
    assert everything("lin") == {("T-2", "林的任务"), ("F-2", "form F-2")}
    assert everything("other_chen") == {("T-1", "Y 的任务")}
    detail = body(_get(client, "/api/external/items/task/T-1", headers["other_chen"]))
    assert detail["item"]["title"] == "Y 的任务"


def test_a_comment_thread_belongs_to_one_contact(client, demo_tenant, owner, chen, lin):
    register(client, owner, "task", "T-1")
    share(client, owner, "task", "T-1", chen.contact_id)
    share(client, owner, "task", "T-1", lin.contact_id)
    chen_headers, lin_headers = (contact_headers(demo_tenant, c.contact_id) for c in (chen, lin))
    client.http.post("/api/external/items/task/T-1/comments", headers=chen_headers,
                     body=json.dumps({"text": "陈的私信"}))
    assert body(_get(client, "/api/external/items/task/T-1", lin_headers))["comments"] == []
    assert [c["text"] for c in body(_get(client, "/api/external/items/task/T-1", chen_headers))["comments"]] == [
        "陈的私信"]


# --- who may call --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/external/home", "/api/external/items?kind=task",
                                  "/api/external/items/task/T-1"])
def test_external_routes_need_a_contact_session(client, demo_tenant, owner, path):
    member = _get(client, path, owner)
    assert member.status_code == 401 and body(member)["error"]["code"] == "contact_session_required"
    nobody = _get(client, path, {})
    assert nobody.status_code == 401 and body(nobody)["error"]["code"] == "invalid_session"


def test_an_unchanged_initial_password_or_a_disabled_account_keeps_the_home_shut(client, demo_tenant, owner, chen):
    from chalicelib.accounts import service

    admin_headers = owner
    from chalicelib.store import roles

    roles.grant(demo_tenant.tenant_key, "zhangsan", roles.ADMIN, "test")
    _share_new(client, owner, "task", "T-1", chen)
    opened = service.open_account(demo_tenant, chen.contact_id, actor="zhangsan", account_name="chen.demo",
                                  initial_password="Yq-Strong-Pass-2025!")
    signed = client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                              body=json.dumps({"tenantKey": demo_tenant.tenant_key, "account": opened["accountName"],
                                               "password": "Yq-Strong-Pass-2025!"}))
    assert signed.status_code == 201 and body(signed)["mustChangePassword"] is True
    headers = {"Authorization": f"Bearer {body(signed)['token']}", "Content-Type": "application/json"}
    for path in ("/api/external/home", "/api/external/items?kind=task", "/api/external/items/task/T-1"):
        refused = _get(client, path, headers)
        assert refused.status_code == 403 and body(refused)["error"]["code"] == "password_change_required", path
    oauth = contact_headers(demo_tenant, chen.contact_id)  # another way in is not held to the password change
    assert _get(client, "/api/external/home", oauth).status_code == 200
    disabled = client.http.post(f"/api/directory/contacts/{chen.contact_id}/account/disable", headers=admin_headers)
    assert disabled.status_code == 200, disabled.body
    assert _get(client, "/api/external/home", oauth).status_code == 401  # disabling ended every session
    fresh = contact_headers(demo_tenant, chen.contact_id)
    refused = _get(client, "/api/external/home", fresh)
    assert refused.status_code == 403 and body(refused)["error"]["code"] == "account_disabled"


def test_a_deleted_contacts_session_is_refused(client, demo_tenant, chen):
    from chalicelib.store.contacts import Contact

    headers = contact_headers(demo_tenant, chen.contact_id)
    Contact(demo_tenant.tenant_key, chen.contact_id).delete()
    for path in ("/api/external/home", "/api/external/items?kind=task"):
        refused = _get(client, path, headers)
        assert refused.status_code == 401 and body(refused)["error"]["code"] == "invalid_session"


def test_huang_is_a_stranger_to_zhangsans_items(client, demo_tenant, owner, chen):
    huang = sync_customer(demo_tenant, HUANG)
    _share_new(client, owner, "task", "T-1", chen)
    headers = contact_headers(demo_tenant, huang.contact_id)
    assert body(_get(client, "/api/external/items?kind=task", headers))["items"] == []
    assert _get(client, "/api/external/items/task/T-1", headers).status_code == 404
