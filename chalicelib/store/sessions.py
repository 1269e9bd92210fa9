"""Sessions of internal members and external contacts, each bound to one tenant (TTL `expiresAt`).

The bearer token is `yq1.<tenantKey>.<secret>`; only the SHA-256 of the secret is stored, so a leaked table grants
nothing. The token names its tenant, which makes every lookup a GetItem under that tenant's partition. Revoking sets
`revokedAt` rather than deleting, so a revoked token is told apart from a forged one in the logs; TTL removes both.
The `bySubject` index finds one person's live sessions when a password change or an account being disabled must
end them all.
"""
from __future__ import annotations

from typing import Iterator

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.core import clock
from chalicelib.store.base import TableModel, conditional_update, table_meta

MEMBER, CONTACT = "member", "contact"


class SubjectIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "bySubject"
        projection = KeysOnlyProjection()

    subject_key = UnicodeAttribute(hash_key=True, attr_name="subjectKey")


class Session(TableModel):
    Meta = table_meta("sessions")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    session_id = UnicodeAttribute(range_key=True, attr_name="sessionId")
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    subject_key = UnicodeAttribute(attr_name="subjectKey")
    method = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="createdAt")
    expires_at = NumberAttribute(attr_name="expiresAt")
    revoked_at = UTCDateTimeAttribute(null=True, attr_name="revokedAt")

    by_subject = SubjectIndex()


def subject_key(tenant_key: str, kind: str, subject: str) -> str:
    return f"{tenant_key}#{kind}#{subject}"


def put(session: Session) -> None:
    session.save()


def get(tenant_key: str, session_id: str) -> Session | None:
    try:
        return Session.get(tenant_key, session_id, consistent_read=True)
    except DoesNotExist:
        return None


def revoke(tenant_key: str, session_id: str) -> bool:
    """Mark one session revoked; False when it does not exist or was revoked already."""
    return conditional_update(
        Session(tenant_key, session_id),
        [Session.revoked_at.set(clock.utcnow())],
        Session.session_id.exists() & Session.revoked_at.does_not_exist(),
    )


def session_ids_of(tenant_key: str, kind: str, subject: str) -> Iterator[str]:
    for item in Session.by_subject.query(subject_key(tenant_key, kind, subject)):
        yield item.session_id
