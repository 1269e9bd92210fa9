"""The audit trail of each contact: who changed what, when, from what to what.

One item per change, keyed `<tenantKey>#<contactId>` and a sort key that starts with the UTC time to the
microsecond (then a random suffix, so two changes in the same microsecond never collide): a contact's history is
one Query, newest first. Entries outlive the contact they describe — a deleted contact's trail is still there.
"""
from __future__ import annotations

import json
import secrets

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core import clock
from chalicelib.store.base import TableModel, table_meta


def audit_key(tenant_key: str, contact_id: str) -> str:
    return f"{tenant_key}#{contact_id}"


class AuditEntry(TableModel):
    Meta = table_meta("contact-audit")

    audit_key = UnicodeAttribute(hash_key=True, attr_name="auditKey")
    entry_id = UnicodeAttribute(range_key=True, attr_name="entryId")
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    # JSON text: the values are whatever the contact held (lists, maps, numbers, empty strings), kept exactly.
    before = UnicodeAttribute()
    after = UnicodeAttribute()
    at = UTCDateTimeAttribute()


def put(tenant_key: str, contact_id: str, actor: str, action: str, before: dict, after: dict) -> AuditEntry:
    stamp = clock.utcnow()
    item = AuditEntry(
        audit_key(tenant_key, contact_id),
        f"{stamp.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(4)}",
        actor=actor,
        action=action,
        before=json.dumps(before, ensure_ascii=False, sort_keys=True, default=str),
        after=json.dumps(after, ensure_ascii=False, sort_keys=True, default=str),
        at=stamp,
    )
    item.save()
    return item


def page(tenant_key: str, contact_id: str, start_key: dict | None, limit: int) -> tuple[list[AuditEntry], dict | None]:
    """One Query: up to `limit` entries, newest first, and where the next page starts (None at the end)."""
    results = AuditEntry.query(audit_key(tenant_key, contact_id), scan_index_forward=False, page_size=limit,
                               last_evaluated_key=start_key)
    raw = next(results.page_iter)
    return [AuditEntry.from_raw_data(item) for item in raw.get("Items", [])], results.page_iter.last_evaluated_key
