"""Every list answers an invalid `limit` the same way: 400 `invalid_limit`, whatever the list (it used to be clamped
on some, ignored on one), and a limit within the documented bounds is served."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.integration.sharing_support import contact_headers

# (path, the documented maximum); `{contact}` is a contact of the demo tenant, `{node}` one of its dimensions,
# `{tenant}` the tenant's key.
MEMBER_LISTS = [
    ("/api/directory/nodes", 200),
    ("/api/directory/nodes/{node}/children", 200),
    ("/api/directory/contacts", 200),
    ("/api/directory/back-office/contacts", 200),
    ("/api/directory/contacts/{contact}/audit", 100),
    ("/api/directory/invitations", 100),
    ("/api/directory/org-invitations?direction=incoming", 100),
    ("/api/sharing/items/form/F-none/submissions", 100),
    ("/api/account-applications", 100),
    ("/api/admin/tenants/{tenant}/sync/runs", 50),
    ("/api/admin/tenants/{tenant}/profile-links/runs", 500),
    ("/api/admin/tenants/{tenant}/profile-links/runs/run-none", 500),
    ("/api/messages/threads", 50),
    ("/api/directory/contacts/{contact}/messages", 50),
]


@pytest.fixture
def admin(demo_tenant, sign_in):
    return sign_in(demo_tenant, "lisi", roles=("admin",))


def _with_limit(path: str, limit: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}limit={limit}"


def _refused(reply) -> bool:
    return reply.status_code == 400 and json.loads(reply.body)["error"]["code"] == "invalid_limit"


@pytest.mark.parametrize("path, maximum", MEMBER_LISTS)
def test_every_member_list_refuses_an_invalid_limit(client, demo_tenant, admin, chen, path, maximum):
    dimensions = json.loads(client.http.get("/api/directory/nodes", headers=admin).body)["nodes"]
    node = quote(dimensions[0]["nodeId"], safe="")
    path = path.format(contact=chen.contact_id, tenant=demo_tenant.tenant_key, node=node)
    for limit in ("0", "-1", "x", str(maximum + 1), "1.5"):
        reply = client.http.get(_with_limit(path, limit), headers=admin)
        assert _refused(reply), (path, limit, reply.status_code, reply.body)
    served = client.http.get(_with_limit(path, str(maximum)), headers=admin)
    assert served.status_code in (200, 404), (path, served.body)  # a run or form that does not exist is a 404
    if served.status_code == 404:
        assert json.loads(served.body)["error"]["code"] in ("run_not_found", "item_not_found")


def test_the_contacts_list_refuses_an_invalid_limit(client, demo_tenant, chen):
    headers = contact_headers(demo_tenant, chen.contact_id)
    for limit in ("0", "-1", "x", "51"):
        assert _refused(client.http.get(f"/api/external/items?kind=task&limit={limit}", headers=headers)), limit
    assert client.http.get("/api/external/items?kind=task&limit=50", headers=headers).status_code == 200
    for limit in ("0", "-1", "x", "51"):
        assert _refused(client.http.get(f"/api/external/liaisons/zhangsan/messages?limit={limit}", headers=headers))
    assert client.http.get("/api/external/liaisons/zhangsan/messages?limit=50", headers=headers).status_code == 200
