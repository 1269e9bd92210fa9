"""The team's internal members (成员) as WeCom reports them, per tenant.

Kept so that callbacks and syncs can tell a team member from a customer (the `byUnion` index: a member whose
WeChat unionid is known) and so renames and departures are recorded.
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib.core import clock
from chalicelib.store.base import TableModel, batch_get_in_tenant, table_meta, transaction_connection

ACTIVE = "active"
GONE = "gone"


class UnionIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byUnion"
        projection = KeysOnlyProjection()

    union_key = UnicodeAttribute(hash_key=True, attr_name="unionKey")


class Member(TableModel):
    Meta = table_meta("members")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    user_id = UnicodeAttribute(range_key=True, attr_name="userId")
    name = UnicodeAttribute(null=True)
    departments = ListAttribute(of=NumberAttribute, default=list)
    status = UnicodeAttribute(default=ACTIVE)
    unionid = UnicodeAttribute(null=True)
    union_key = UnicodeAttribute(null=True, attr_name="unionKey")
    renamed_to = UnicodeAttribute(null=True, attr_name="renamedTo")
    updated_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="updatedAt")

    by_union = UnionIndex()


def union_key(tenant_key: str, unionid: str) -> str:
    return f"{tenant_key}#{unionid}"


def get(tenant_key: str, user_id: str) -> Member | None:
    try:
        return Member.get(tenant_key, user_id)
    except DoesNotExist:
        return None


def get_many(tenant_key: str, user_ids: list[str]) -> dict[str, Member]:
    """The recorded members among these userids, by userid (BatchGetItem, 100 keys a request)."""
    return batch_get_in_tenant(Member, tenant_key, user_ids, "user_id")


def is_member_unionid(tenant_key: str, unionid: str) -> bool:
    return any(True for _ in Member.by_union.query(union_key(tenant_key, unionid), limit=1))


def user_id_of_unionid(tenant_key: str, unionid: str) -> str | None:
    """The member who bound this WeChat unionid (one Query on `byUnion`), or None."""
    for hit in Member.by_union.query(union_key(tenant_key, unionid), limit=1):
        return hit.user_id
    return None


def upsert(tenant_key: str, user_id: str, name: str | None, departments: list[int]) -> None:
    """Record the member as WeCom has it now; a returning member becomes active again."""
    actions = [
        Member.departments.set(departments),
        Member.status.set(ACTIVE),
        Member.renamed_to.remove(),
        Member.updated_at.set(clock.utcnow()),
    ]
    if name:
        actions.append(Member.name.set(name))
    Member(tenant_key, user_id).update(actions=actions)


def set_unionid(tenant_key: str, user_id: str, unionid: str) -> None:
    """Learned when the member binds their WeChat (auth/member_wechat.py); lets the sync skip the member if they are
    also a customer."""
    Member(tenant_key, user_id).update(
        actions=[Member.unionid.set(unionid), Member.union_key.set(union_key(tenant_key, unionid))]
    )


def mark_gone(tenant_key: str, user_id: str) -> None:
    Member(tenant_key, user_id).update(actions=[Member.status.set(GONE), Member.updated_at.set(clock.utcnow())])


def rename(tenant_key: str, old_user_id: str, new_user_id: str) -> None:
    """WeCom changed the userid: the record moves to the new id in one transaction, the old one says where."""
    old = get(tenant_key, old_user_id)
    moved = Member(
        tenant_key,
        new_user_id,
        name=old.name if old else None,
        departments=list(old.departments) if old else [],
        unionid=old.unionid if old else None,
        union_key=old.union_key if old else None,
        status=ACTIVE,
        updated_at=clock.utcnow(),
    )
    with TransactWrite(connection=transaction_connection()) as transaction:
        transaction.save(moved)
        if old:
            transaction.update(
                Member(tenant_key, old_user_id),
                actions=[Member.status.set(GONE), Member.renamed_to.set(new_user_id), Member.union_key.remove()],
            )
