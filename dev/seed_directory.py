"""The demo tenant's small external directory for the local stack: who is who, and a few contacts.

- zhangsan (张三) is an admin; wangwu (王五) maintains the manual dimension 合作伙伴; lisi (李四) is an ordinary member
  who added one contact; zhaoliu (赵六) is a visible member of wangwu's contact.
- 合作伙伴 (dimension) → 云杉科技有限公司 (organisation) → 采购部 (department), and three manual contacts.
Fixed ids make it idempotent: a second `make run` finds everything and changes nothing.
"""
from __future__ import annotations

from chalicelib.directory import contacts as directory
from chalicelib.core.errors import Conflict
from chalicelib.store import organisations, roles
from chalicelib.store.organisations import Node
from chalicelib.store.tenants import Tenant

DIMENSION_ID, ORGANISATION_ID, DEPARTMENT_ID = "dim-demo0001", "org-demo0001", "dep-demo0001"
NODES = [
    (DIMENSION_ID, organisations.DIMENSION, "合作伙伴", None, None),
    (ORGANISATION_ID, organisations.ORGANISATION, "云杉科技有限公司", DIMENSION_ID, None),
    (DEPARTMENT_ID, organisations.DEPARTMENT, "采购部", ORGANISATION_ID, ORGANISATION_ID),
]
CONTACTS = [
    ("ct-demo000000000001", "lisi", {"name": "刘经理", "mobile": "13800138001", "email": "liu@yunshan.example",
                                     "departmentId": DEPARTMENT_ID, "position": "采购经理"}),
    ("ct-demo000000000002", "wangwu", {"name": "王工", "mobile": "13800138002", "email": "wang@yunshan.example",
                                       "organisationId": ORGANISATION_ID, "position": "技术总监",
                                       "visibleMembers": ["wangwu", "zhaoliu"]}),
    ("ct-demo000000000003", "zhangsan", {"name": "陈总", "mobile": "+85291234567", "organisationId": ORGANISATION_ID,
                                         "position": "总经理", "remark": "年度战略伙伴"}),
]
ROLES = [("zhangsan", roles.ADMIN), ("wangwu", roles.dimension_role(DIMENSION_ID))]


def seed_directory(tenant: Tenant) -> None:
    for user_id, role in ROLES:
        roles.grant(tenant.tenant_key, user_id, role, "seed")
    for node_id, kind, name, parent_id, organisation_id in NODES:
        organisations.create_manual(Node(
            tenant.tenant_key, node_id, kind=kind, name=name, parent_id=parent_id,
            dimension_id=DIMENSION_ID, organisation_id=organisation_id, source=organisations.SOURCE_MANUAL,
        ))
    for contact_id, adder, fields in CONTACTS:
        try:
            directory.create_contact(tenant, fields, source="manual", adder_id=adder, actor="seed",
                                     contact_id=contact_id)
        except Conflict:
            continue
