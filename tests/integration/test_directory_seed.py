"""The local stack's demo directory (dev/seed_directory.py): idempotent, and each member sees through the API what
their role and relations entitle them to."""
from __future__ import annotations

from chalicelib.store import contacts
from dev.seed_directory import CONTACTS, DEPARTMENT_ID, DIMENSION_ID, ORGANISATION_ID, seed_directory
from tests.integration.api_support import body
from tests.integration.directory_support import Api, front_list_ids

LIU, WANG, CHEN = (contact_id for contact_id, _adder, _fields in CONTACTS)


def test_the_seeded_directory_is_visible_to_the_right_members(demo_tenant, client, sign_in):
    seed_directory(demo_tenant)
    seed_directory(demo_tenant)  # idempotent: nothing doubles
    assert len(list(contacts.Contact.query(demo_tenant.tenant_key))) == 3

    zhangsan, wangwu = Api(client, sign_in(demo_tenant, "zhangsan")), Api(client, sign_in(demo_tenant, "wangwu"))
    lisi, zhaoliu = Api(client, sign_in(demo_tenant, "lisi")), Api(client, sign_in(demo_tenant, "zhaoliu"))
    zhengshi = Api(client, sign_in(demo_tenant, "zhengshi"))

    assert [n["nodeId"] for n in body(zhangsan.get("/api/directory/nodes"))["nodes"]] == [DIMENSION_ID]
    org = body(zhangsan.get(f"/api/directory/nodes/{ORGANISATION_ID}"))
    assert (org["name"], org["childCount"], org["contactCount"]) == ("云杉科技有限公司", 1, 2)
    assert body(zhangsan.get(f"/api/directory/nodes/{DEPARTMENT_ID}"))["contactCount"] == 1

    everything = {c["contactId"] for c in body(zhangsan.get("/api/directory/back-office/contacts"))["contacts"]}
    assert everything == {LIU, WANG, CHEN}
    maintained = {c["contactId"] for c in body(wangwu.get("/api/directory/back-office/contacts"))["contacts"]}
    assert maintained == {LIU, WANG, CHEN}
    assert lisi.get("/api/directory/back-office/contacts").status_code == 403

    assert front_list_ids(lisi) == [LIU]
    assert set(front_list_ids(zhaoliu)) == {WANG}
    assert front_list_ids(zhengshi) == []
    liu = body(lisi.get(f"/api/directory/contacts/{LIU}"))
    assert (liu["name"], liu["orgName"], liu["departmentId"], liu["accountStatus"]) == (
        "刘经理", "云杉科技有限公司", DEPARTMENT_ID, "none")
    assert "accountStatus" not in body(zhaoliu.get(f"/api/directory/contacts/{WANG}"))
    assert zhengshi.get(f"/api/directory/contacts/{CHEN}").status_code == 404
    assert lisi.get(f"/api/directory/contacts/{CHEN}").status_code == 404
    assert wangwu.get(f"/api/directory/contacts/{CHEN}").status_code == 200
